"""Exim mainlog lines (``/var/log/exim_mainlog``), as bytes, parsed just enough.

``parse()`` splits a line into time, pid, message id, flag and the rest; ``arrival()`` reads the
fields of a ``<=`` line.  Fields are read only after the validated ``[client-ip]`` of ``H=`` and
before the Message-ID and Subject, and a quoted sender is consumed whole, so text an attacker
controls (HELO name, envelope sender, Message-ID, subject) cannot forge ``A=``, ``U=``, ``P=``
or ``H=``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from csm.logtail.formats import syslog
from csm.logtail.formats.address import ip_text
from csm.logtail.formats.stamps import iso_stamp, zone_offset

MESSAGE_ID = re.compile(
    rb"[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|[0-9A-Za-z]{11}-[0-9A-Za-z]{4})"
)
FLAGS = frozenset({b"<=", b"=>", b"->", b">>", b"*>", b"**", b"=="})


@dataclass(frozen=True, slots=True)
class EximLine:
    time: int
    pid: int
    msgid: str  # "" for lines about no message (auth failures, connections, …)
    flag: str  # "<=", "=>", "->", ">>", "*>", "**", "==" or ""
    rest: bytes  # what follows the flag (or the id, or the time)


class Arrival:
    """The fields of a ``<=`` line.  Sender, client and authenticated identity are read at
    once; the rest when a detector asks (most lines need only a few)."""

    __slots__ = ("_fields", "_tail", "auth", "host", "ip", "sender", "user")

    def __init__(self, sender: str, host: str, ip: str, fields: bytes, tail: bytes) -> None:
        self.sender = sender
        self.host = host
        self.ip = ip
        self._fields = fields
        self._tail = tail
        self.auth = _value(fields, b" A=")  # e.g. "dovecot_login:info@example.com"
        self.user = _value(fields, b" U=")

    @property
    def auth_id(self) -> str:
        """The authenticated identity: ``dovecot_login:info@x`` → ``info@x``."""
        return self.auth.partition(":")[2] if ":" in self.auth else ""

    @property
    def protocol(self) -> str:
        return _value(self._fields, b" P=")

    @property
    def resolver(self) -> str:
        """``B=``, e.g. ``redirect_resolver`` (cPanel's PHP mail)."""
        return _value(self._fields, b" B=")

    @property
    def size(self) -> int:
        size = _value(self._fields, b" S=")
        return int(size) if size.isdigit() else 0

    @property
    def bounce_of(self) -> str:
        """``R=`` on a bounce: the message it bounces."""
        return _value(self._fields, b" R=") if self.sender == "<>" else ""

    @property
    def subject(self) -> str:
        return _subject(self._tail)

    def text_mentions(self, *needles: bytes) -> bool:
        """Whether the sender's own text (Message-ID, Subject) holds any of ``needles``: a
        cheap test before the subject is read."""
        return any(needle in self._tail for needle in needles)


def parse(line: bytes, year: int = 1970) -> EximLine | None:
    """One mainlog line (own format or syslog-wrapped); None when it is not one."""
    line = line.rstrip(b"\r\n")
    try:
        if line[:2] in (b"19", b"20") and line[4:5] == b"-" and line[10:11] == b" ":
            return _own(line)
        wrapped = syslog.parse(line, year)
        if wrapped is None or not wrapped.program.startswith(b"exim"):
            return None
        inner = _own(wrapped.message) if wrapped.message[4:5] == b"-" else None
        return inner or _body(wrapped.time, wrapped.pid, wrapped.message)
    except (ValueError, IndexError):
        return None


def _own(line: bytes) -> EximLine | None:
    when = iso_stamp(line[:19])
    rest = line[19:]
    if rest[:1] == b".":  # +subsecond_timestamp
        rest = rest[1:].lstrip(b"0123456789")
    rest = rest.lstrip(b" ")
    if rest[:1] in (b"+", b"-") and rest[5:6] == b" ":
        when -= zone_offset(rest[:5])
        rest = rest[6:]
    pid = 0
    if rest[:1] == b"[":
        close = rest.index(b"]")
        pid = int(rest[1:close])
        rest = rest[close + 1 :].lstrip(b" ")
    return _body(when, pid, rest)


def _body(when: int, pid: int, rest: bytes) -> EximLine:
    head, _, tail = rest.partition(b" ")
    if len(head) in (16, 23) and MESSAGE_ID.fullmatch(head):
        flag, _, after = tail.partition(b" ")
        if flag in FLAGS:
            return EximLine(when, pid, head.decode(), flag.decode(), after)
        return EximLine(when, pid, head.decode(), "", tail)
    return EximLine(when, pid, "", "", rest)


def arrival(rest: bytes) -> Arrival | None:
    """The fields of a ``<=`` line's rest; None when it is malformed.

    Exim writes ``<= sender [R=] [H=name (helo) [ip]:port] [U=] P= … A= S= [id=] [T="…"] …``:
    everything from ``id=`` or ``T="`` on (the Message-ID and Subject headers) is the sender's
    own text, so fields are looked for only before it, and after the client address."""
    sender, start = _sender(rest)
    if not sender:
        return None
    tail = rest[start:]
    safe = tail[: _cut(tail)]
    host = ip = ""
    fields = safe
    marker = safe.find(b" H=")
    if marker >= 0:
        client = _client(safe, marker + 3)
        if client is None:
            return None
        host, ip, after = client
        fields = safe[:marker] + safe[after:]
    return Arrival(sender, host, ip, fields, tail)


def _sender(rest: bytes) -> tuple[str, int]:
    """The envelope sender (a quoted local part may hold spaces) and where the fields start."""
    if rest.startswith(b'"'):
        close = rest.find(b'"', 1)
        while close > 0 and rest[close - 1 : close] == b"\\":
            close = rest.find(b'"', close + 1)
        if close < 0:
            return "", 0
        end = rest.find(b" ", close)
    else:
        end = rest.find(b" ")
    end = len(rest) if end < 0 else end
    return rest[:end].decode("utf-8", "replace"), end


def _cut(tail: bytes) -> int:
    """Where the sender's own text (``id=``, ``T="``) begins."""
    ident, subject = tail.find(b" id="), tail.find(b' T="')
    if ident < 0:
        return subject if subject >= 0 else len(tail)
    return ident if subject < 0 or ident < subject else subject


def _client(text: bytes, at: int) -> tuple[str, str, int] | None:
    """``name (helo) [ip]:port`` starting at ``at``: host name, validated address, and where
    the text after it begins.  Exim's default HELO syntax check keeps spaces out of HELO
    names, so the first ``) [`` closes the HELO and an address literal given as HELO is never
    taken for the client's."""
    host = ""
    if text[at : at + 1] not in (b"(", b"["):
        space = text.find(b" ", at)
        if space < 0:
            return None
        host, at = text[at:space].decode("utf-8", "replace"), space + 1
    if text[at : at + 1] == b"(":
        close = text.find(b") [", at)
        if close < 0:
            return None
        at = close + 2
    if text[at : at + 1] != b"[":
        return None
    close = text.find(b"]", at)
    address = ip_text(text[at + 1 : close]) if close > 0 else ""
    if not address:
        return None
    after = text.find(b" ", close)
    return host, address, len(text) if after < 0 else after


def _value(fields: bytes, key: bytes) -> str:
    start = fields.find(key)
    if start < 0:
        return ""
    start += len(key)
    end = fields.find(b" ", start)
    return fields[start : len(fields) if end < 0 else end].decode("utf-8", "replace")


def _subject(tail: bytes) -> str:
    start = tail.find(b' T="')
    if start < 0:
        return ""
    start += 4
    end = start
    while True:
        end = tail.find(b'"', end)
        if end < 0:
            end = len(tail)
            break
        if tail[end - 1 : end] != b"\\":
            break
        end += 1
    return tail[start:end].decode("utf-8", "replace").replace('\\"', '"')


def auth_failure(rest: bytes) -> tuple[str, str] | None:
    """``dovecot_login authenticator failed for H=(helo) [ip]:port: 535 … (set_id=user)``:
    the client address and the login that was tried ("" when none was given)."""
    marker = rest.find(b"authenticator failed for H=")
    if marker < 0:
        return None
    client = _client(rest, marker + 27)
    if client is None:
        return None
    start = rest.rfind(b"(set_id=")
    login = rest[start + 8 : rest.rfind(b")")] if start >= 0 else b""
    return client[1], login.decode("utf-8", "replace")
