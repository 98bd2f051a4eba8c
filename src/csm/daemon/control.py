"""The control socket's server side (the client is :mod:`csm.control`): one JSON request
``{cmd, args}`` per line, one reply ``{ok, result}`` or ``{ok: false, error, code}``.

The socket is 0600 in a 0750 directory; a stale socket (nobody answers) is removed at start,
a live one means another daemon and is refused.  Each peer's credentials are checked (root,
or the daemon's own uid); every read and write has a deadline; a malformed request gets an
error reply, and the daemon goes on.

A command that works a while (an operation) runs in a worker thread and may talk to its
peer through a :class:`Conversation`: events on the way, and confirmations it waits for."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import socket
import struct
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from csm import control
from csm.daemon.journal import event
from csm.errors import CsmError, LockHeldError, ServiceUnavailableError, UsageError
from csm.jsonio import to_jsonable

DEADLINE = 5.0  # seconds for a request to arrive, and for its reply to leave
CONFIRM_DEADLINE = 30.0  # seconds for a peer to confirm an event it was sent
MAX_REQUEST = 1 << 20
Handler = Callable[[dict[str, Any]], Any]  # a command's arguments -> its result


class Conversation:
    """The peer of one request, seen from the worker thread that runs the command: events
    told on the way, and events it must confirm before the command goes on."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: int,
    ) -> None:
        self.loop, self.reader, self.writer, self.peer = loop, reader, writer, peer
        self.gone = False

    def tell(self, name: str, data: Any) -> None:
        """Sent if the peer still listens (a peer gone does not stop the command)."""
        try:
            self._run(self._write({"event": name, "data": to_jsonable(data)}))
        except (TimeoutError, OSError):
            self.gone = True

    def confirm(self, name: str, data: Any) -> None:
        """Sent, and returns once the peer confirmed it; raises when it did not."""
        try:
            self._run(self._ask({"event": name, "data": to_jsonable(data), "confirm": True}))
        except (TimeoutError, OSError, ValueError):
            self.gone = True
            raise ServiceUnavailableError(
                f"the client did not confirm it received {name!r}; nothing more was changed"
            ) from None

    def _run(self, step: Coroutine[Any, Any, None]) -> None:
        """``step`` on the loop; its own deadlines end it (this bound covers a loop stopping)."""
        done = asyncio.run_coroutine_threadsafe(step, self.loop)
        try:
            done.result(timeout=CONFIRM_DEADLINE + DEADLINE)
        except concurrent.futures.CancelledError:
            raise OSError("the daemon is stopping") from None

    async def _write(self, message: dict[str, Any]) -> None:
        if self.gone:
            raise OSError("the peer hung up")
        self.writer.write(json.dumps(message, default=str).encode() + b"\n")
        await asyncio.wait_for(self.writer.drain(), DEADLINE)

    async def _ask(self, message: dict[str, Any]) -> None:
        await self._write(message)
        line = await asyncio.wait_for(self.reader.readline(), CONFIRM_DEADLINE)
        try:
            answer = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            answer = None
        if answer != {"ack": True}:
            raise ValueError("no confirmation")


Talker = Callable[[dict[str, Any], Conversation], Any]  # run in a worker thread


class ControlServer:
    def __init__(
        self,
        path: Path,
        commands: Mapping[str, Handler],
        talkers: Mapping[str, Talker] | None = None,
    ) -> None:
        self.path = path
        self.commands = commands
        self.talkers = dict(talkers or {})
        self.allowed = {0, os.getuid()}
        self._server: asyncio.AbstractServer | None = None
        self._serving: set[asyncio.Task[Any]] = set()  # requests being answered

    async def start(self) -> None:
        if not self.path.parent.is_dir():  # CSM's own directory (a given one is left as is)
            self.path.parent.mkdir(parents=True)
            os.chmod(self.path.parent, 0o750)  # noqa: S103 - root and the csm group read it
        if self.path.exists() or self.path.is_symlink():
            if control.answers(self.path):
                raise LockHeldError(f"another daemon answers on {self.path}")
            self.path.unlink()  # stale: its daemon is gone
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=MAX_REQUEST
            )
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        """No new request; those being answered get a deadline to finish, then are cut."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._serving:
            _, late = await asyncio.wait(self._serving, timeout=DEADLINE)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)
        try:
            reply = await self._answer(reader, writer)
            writer.write(json.dumps(reply, default=str).encode() + b"\n")
            await asyncio.wait_for(writer.drain(), DEADLINE)
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            pass  # the peer went away or is too slow: nothing to answer
        finally:
            writer.close()

    async def _answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> dict[str, Any]:
        try:  # read first, so the peer hears the answer instead of a broken pipe
            line = await asyncio.wait_for(reader.readline(), DEADLINE)
        except ValueError:  # longer than the limit
            return _error("request too long", "usage")
        uid = _peer_uid(writer.get_extra_info("socket"))
        if uid not in self.allowed:
            event("control.refused", "control request refused", uid=uid, level=logging.WARNING)
            return _error(f"uid {uid} may not use the control socket", "refused")
        try:
            cmd, args = _parse(line)
            if cmd in self.talkers:
                talk = Conversation(asyncio.get_running_loop(), reader, writer, uid)
                result = await asyncio.to_thread(self.talkers[cmd], args, talk)
                return {"ok": True, "result": to_jsonable(result)}
            handler = self.commands.get(cmd)
            if handler is None:
                known = ", ".join([*self.commands, *self.talkers])
                raise UsageError(f"unknown command {cmd!r}; known: {known}")
            return {"ok": True, "result": to_jsonable(handler(args))}
        except CsmError as exc:
            return _error(exc.message, exc.kind.code, exc.fix, exc.details)
        except Exception as exc:  # a bug: reported to the peer and the log, the daemon goes on
            event("control.failed", "control command failed", level=logging.ERROR, error=repr(exc))
            return _error(f"internal error: {type(exc).__name__}", "error")


def _parse(line: bytes) -> tuple[str, dict[str, Any]]:
    try:
        message = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UsageError('a request is one line of JSON: {"cmd": …, "args": {…}}') from None
    if not isinstance(message, dict) or not isinstance(message.get("cmd"), str):
        raise UsageError('a request is an object with a string "cmd"')
    args = message.get("args") or {}
    if not isinstance(args, dict):
        raise UsageError('"args" must be an object')
    return message["cmd"], args


def _peer_uid(sock: socket.socket | None) -> int:
    if sock is None:
        return -1
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", raw)[1])


def _error(message: str, code: str, fix: str | None = None, details: Any = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"ok": False, "error": message, "code": code}
    if fix:
        reply["fix"] = fix
    if details:
        reply["details"] = to_jsonable(details)
    return reply
