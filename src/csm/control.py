"""The control-socket protocol: a JSON line ``{cmd, args}`` in, ``{ok, result, error}`` out.

A command that talks while it works (an operation, :mod:`csm.operations`) sends event lines
``{event, data, confirm}`` before its reply.  Each goes to the caller's ``listener``; when
``confirm`` is set the client answers ``{"ack": true}`` once the listener has returned, and
the daemon waits for that before it goes on (a new password reaches the operator before it
is set).  A listener that raises hangs up instead: the daemon stops there."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from csm.errors import CsmError, ServiceUnavailableError, from_reply

DIAL_TIMEOUT = 2.0
MAX_REPLY = 64 * 1024 * 1024
Listener = Callable[[str, Any], None]  # an event's name and data, as the daemon sent them


def request(
    path: Path,
    cmd: str,
    args: dict[str, Any] | None = None,
    timeout: float | None = 300,
    listener: Listener | None = None,
) -> Any:
    """Send one command to the daemon and return its result; raise when it does not answer.
    ``timeout`` bounds each wait for a line (``None``: as long as the daemon works)."""
    with _dial(path) as sock:
        sock.settimeout(timeout)
        _send(sock, {"cmd": cmd, "args": args or {}})
        with sock.makefile("rb") as lines:
            while True:
                message = _message(_read_line(lines))
                if not isinstance(message, dict) or "event" not in message:
                    break
                _heard(sock, message, listener)
    if not isinstance(message, dict) or not message.get("ok"):
        raise _refusal(cmd, message)
    return message.get("result")


def _heard(sock: socket.socket, message: dict[str, Any], listener: Listener | None) -> None:
    """An event passed on to the listener, and confirmed when the daemon waits for that."""
    if listener is not None:
        listener(str(message["event"]), message.get("data"))
    if message.get("confirm"):
        if listener is None:
            raise ServiceUnavailableError("the daemon asked for a confirmation nobody can give")
        _send(sock, {"ack": True})


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    try:
        sock.sendall(json.dumps(message).encode() + b"\n")
    except OSError as exc:  # it hung up (EPIPE) or stalled: it does not answer
        raise ServiceUnavailableError(f"daemon stopped answering: {exc}") from None


def _message(line: bytes) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ServiceUnavailableError(f"daemon sent an invalid reply: {exc}") from None


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


def _read_line(lines: BinaryIO) -> bytes:
    try:
        line = lines.readline(MAX_REPLY)
    except OSError as exc:
        raise ServiceUnavailableError(f"daemon stopped answering: {exc}") from None
    if not line:
        raise ServiceUnavailableError("daemon hung up without a reply")
    if len(line) >= MAX_REPLY and not line.endswith(b"\n"):
        raise ServiceUnavailableError(f"daemon's reply is over {MAX_REPLY} bytes")
    return line
