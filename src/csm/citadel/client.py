"""A Citadel client-protocol session (``techdoc/protocol.txt``): over the admin Unix socket
(``citadel-admin.socket``: an internal program, no login needed) or TCP (port 504, with a
login from the configuration; an Aide's, since the queue room is a system room).

Every reply starts with a three-digit code whose first digit is its class (1 listing follows,
2 ok, 3 more data, 4 send a listing, 5 error); a listing ends with a line ``000``.  Arguments are
separated by ``|``, so an argument holding ``|``, a line break or a NUL is refused before it is
sent.  A message's text is sent verbatim by the server, so a body line ``000`` would end its
listing early: after each message :meth:`Session.message` checks the stream with ``ECHO`` and
reports a listing cut short rather than reading the rest of the message as replies."""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from csm.config.citadel import CitadelConfig
from csm.errors import CommandError, ConfigError, UsageError
from csm.host import Host

LISTING_FOLLOWS: Final = 1
CIT_OK: Final = 2
MORE_DATA: Final = 3
SEND_LISTING: Final = 4
END: Final = b"000"
MAX_LINE: Final = 1 << 20  # a longer line is a broken stream, not a message
MAX_LISTING: Final = 256 << 20
REPLY = re.compile(rb"(\d{3})(?:[ *](.*))?")
UNSAFE = re.compile(r"[|\r\n\x00]")


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    text: str

    @property
    def kind(self) -> int:
        return self.code // 100

    @property
    def fields(self) -> list[str]:
        return self.text.split("|")


@dataclass(frozen=True, slots=True)
class Listed:
    """A message's listing (``MSG2``): its lines as sent (CR stripped), and whether the listing
    was cut short by a line ``000`` in the message (the rest is then not read)."""

    lines: tuple[bytes, ...]
    cut_short: bool


@dataclass(frozen=True, slots=True)
class Address:
    """Where the server listens: a Unix socket, or TCP when ``host`` is set."""

    socket: Path
    host: str = ""
    port: int = 504
    user: str = ""
    password: str = ""
    timeout: float = 30.0

    def describe(self) -> str:
        return f"{self.host}:{self.port}" if self.host else str(self.socket)

    @classmethod
    def of(cls, settings: CitadelConfig, host: Host) -> Address:
        """Where ``mail.citadel`` says citserver listens, with the login (its password read
        from ``password_file``)."""
        password = ""
        if settings.password_file:
            path = host.path(settings.password_file)
            try:
                lines = path.read_text().splitlines()
            except OSError as exc:
                raise ConfigError(f"mail.citadel.password_file: {exc}") from None
            password = lines[0] if lines else ""
        return cls(
            host.path(settings.socket),
            settings.host,
            settings.port,
            settings.user,
            password,
            settings.timeout,
        )


def argument(value: str) -> str:
    """A command argument: no ``|`` (the separator), no line break, no NUL."""
    if UNSAFE.search(value):
        raise UsageError(f"{value!r} cannot be sent to Citadel (it holds |, a line break or NUL)")
    return value


class Session:
    """One connection, logged in when the address carries a login."""

    def __init__(self, address: Address) -> None:
        self.address = address
        self.sock = _connect(address)
        self.stream = self.sock.makefile("rb")
        try:
            greeting = self._reply()
            if greeting.kind != CIT_OK:
                raise CommandError(f"Citadel at {address.describe()} refused: {greeting.text}")
            if address.user:
                self._login(address.user, address.password)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(b"QUIT\n")
        self.stream.close()
        self.sock.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- commands ---------------------------------------------------------------------------

    def command(self, verb: str, *args: str) -> Reply:
        """Send ``VERB arg|arg…`` and read its reply line (a listing is left to the caller)."""
        line = verb if not args else f"{verb} {'|'.join(argument(a) for a in args)}"
        self._send(line)
        return self._reply()

    def ok(self, verb: str, *args: str, expect: int = CIT_OK) -> Reply:
        """A command whose reply must be of class ``expect``; otherwise a CommandError."""
        reply = self.command(verb, *args)
        if reply.kind != expect:
            if reply.kind == LISTING_FOLLOWS:
                self.listing()
            shown = " ".join((verb, *args))
            raise CommandError(f"Citadel refused `{shown}`: {reply.code} {reply.text}")
        return reply

    def listing(self) -> list[bytes]:
        """The lines up to ``000`` (CR stripped)."""
        lines, size = [], 0
        while (line := self._line()) != END:
            size += len(line)
            if size > MAX_LISTING:
                raise CommandError("a Citadel listing exceeds 256 MiB")
            lines.append(line)
        return lines

    def send_listing(self, lines: Sequence[str]) -> None:
        for line in lines:
            if "\n" in line or "\r" in line or line == "000":
                raise UsageError(f"{line!r} cannot be sent in a Citadel listing")
            self._send(line)
        self._send("000")

    def goto(self, room: str) -> Reply:
        """Enter ``room``; NotFound-like refusals raise CommandError with the server's text."""
        return self.ok("GOTO", room)

    def numbers(self) -> list[int]:
        """``MSGS ALL``: the current room's message numbers."""
        self.ok("MSGS", "ALL", expect=LISTING_FOLLOWS)
        return [int(n) for n in self.listing() if n.isdigit() and len(n) < 20]

    def message(self, number: int) -> Listed | None:
        """``MSG2 n``: the message in RFC 822 form (None when it is not in this room)."""
        reply = self.command("MSG2", str(number))
        if reply.kind != LISTING_FOLLOWS:
            return None
        lines = self.listing()
        return Listed(tuple(lines), not self.sync())

    def sync(self) -> bool:
        """Whether the stream is in step: ``ECHO token`` answered next.  Lines before the echo
        (the rest of a message whose listing a ``000`` line cut short) are read and dropped."""
        token = f"csm-{secrets.token_hex(6)}"
        self._send(f"ECHO {token}")
        skipped = 0
        while True:
            line = self._line()
            if line.rstrip() == f"200 {token}".encode():
                return skipped == 0
            skipped += 1
            if skipped > MAX_LISTING // 64:
                raise CommandError("Citadel's replies lost step and did not recover")

    # -- the wire ---------------------------------------------------------------------------

    def _login(self, user: str, password: str) -> None:
        reply = self.command("USER", user)
        if reply.kind == MORE_DATA:
            reply = self.command("PASS", password)
        if reply.kind != CIT_OK:
            raise ConfigError(
                f"Citadel refused the login of {user!r}: {reply.code} {reply.text}",
                fix="check mail.citadel.user and mail.citadel.password_file (an Aide's login)",
            )

    def _send(self, line: str) -> None:
        try:
            self.sock.sendall(line.encode() + b"\n")
        except OSError as exc:
            raise CommandError(f"Citadel at {self.address.describe()}: {exc}") from None

    def _line(self) -> bytes:
        try:
            line = self.stream.readline(MAX_LINE + 1)
        except OSError as exc:
            raise CommandError(f"Citadel at {self.address.describe()}: {exc}") from None
        if not line:
            raise CommandError(f"Citadel at {self.address.describe()} closed the connection")
        if len(line) > MAX_LINE:
            raise CommandError("Citadel sent a line longer than 1 MiB")
        return line.rstrip(b"\n").rstrip(b"\r")

    def _reply(self) -> Reply:
        line = self._line()
        match = REPLY.fullmatch(line)
        if match is None:
            raise CommandError(f"not a Citadel reply: {line[:80]!r}")
        return Reply(int(match[1]), (match[2] or b"").decode("utf-8", "replace"))


def _connect(address: Address) -> socket.socket:
    try:
        if address.host:
            return socket.create_connection((address.host, address.port), address.timeout)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(address.timeout)
        try:
            sock.connect(str(address.socket))
        except BaseException:
            sock.close()
            raise
        return sock
    except OSError as exc:
        raise CommandError(
            f"cannot reach Citadel at {address.describe()}: {exc}",
            fix="check mail.citadel.socket (or host/port) and that citserver runs",
        ) from None
