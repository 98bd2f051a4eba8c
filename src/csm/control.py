"""The control-socket protocol: a JSON line ``{cmd, args}`` in, ``{ok, result, error}`` out."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from csm.errors import CsmError, ServiceUnavailableError, from_reply

DIAL_TIMEOUT = 2.0
MAX_REPLY = 64 * 1024 * 1024


def request(path: Path, cmd: str, args: dict[str, Any] | None = None, timeout: float = 300) -> Any:
    """Send one command to the daemon and return its result; raise when it does not answer."""
    with _dial(path) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendall(json.dumps({"cmd": cmd, "args": args or {}}).encode() + b"\n")
        except OSError as exc:  # it hung up (EPIPE) or stalled: it does not answer
            raise ServiceUnavailableError(f"daemon stopped answering: {exc}") from None
        reply = _read_line(sock)
    try:
        message = json.loads(reply)
    except json.JSONDecodeError as exc:
        raise ServiceUnavailableError(f"daemon sent an invalid reply: {exc}") from None
    if not isinstance(message, dict) or not message.get("ok"):
        raise _refusal(cmd, message)
    return message.get("result")


def _refusal(cmd: str, message: Any) -> CsmError:
    """The daemon's error as the same kind of error here (exit code, JSON code, fix)."""
    if not isinstance(message, dict):
        return CsmError(f"daemon refused {cmd}: no reason given")
    text = str(message.get("error") or f"daemon refused {cmd}: no reason given")
    fix = message.get("fix")
    details = message.get("details")
    return from_reply(
        str(message.get("code") or "error"),
        text,
        fix if isinstance(fix, str) else None,
        details if isinstance(details, dict) else None,
    )


def answers(path: Path) -> bool:
    """True when something accepts connections on the control socket."""
    try:
        with _dial(path):
            return True
    except ServiceUnavailableError:
        return False


def _dial(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(DIAL_TIMEOUT)
    try:
        sock.connect(str(path))
    except OSError as exc:
        sock.close()
        raise ServiceUnavailableError(
            f"daemon not reachable at {path}: {exc.strerror or exc}"
        ) from None
    return sock


def _read_line(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError as exc:
            raise ServiceUnavailableError(f"daemon stopped answering: {exc}") from None
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk or size > MAX_REPLY:
            break
    return b"".join(chunks).split(b"\n", 1)[0]
