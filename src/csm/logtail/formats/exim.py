"""Exim mainlog lines (``/var/log/exim_mainlog``), as str, parsed just enough.

``parse()`` splits a line into time, pid, message id, flag and the rest; ``arrival()`` reads the
fields of a ``<=`` line.  Fields are read only after the validated ``[client-ip]`` of ``H=`` and
before the Message-ID and Subject, and a quoted sender is consumed whole, so text an attacker
controls (HELO name, envelope sender, Message-ID, subject) cannot forge ``A=``, ``U=``, ``P=``
or ``H=``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from csm.logtail.formats import syslog
from csm.logtail.formats.address import ip_text
from csm.logtail.formats.stamps import iso_stamp, zone_offset
from csm.logtail.formats.text import field

FLAGS: Final = frozenset({"<=", "=>", "->", ">>", "*>", "**", "=="})


@dataclass(frozen=True, slots=True)
class EximLine:
    time: int
    pid: int
    msgid: str  # "" for lines about no message (auth failures, connections, …)
    flag: str  # "<=", "=>", "->", ">>", "*>", "**", "==" or ""
    rest: str  # what follows the flag (or the id, or the time)


class Arrival:
    """The fields of a ``<=`` line.  Sender, client and identities are read at once; the rest
    when a detector asks (most lines need only a few)."""

    __slots__ = ("_fields", "_tail", "auth", "auth_id", "host", "ip", "sender", "user")

    def __init__(self, sender: str, host: str, ip: str, fields: str, tail: str) -> None:
        self.sender = sender
        self.host = host
        self.ip = ip
        self._fields = fields
        self._tail = tail
        self.auth = _value(fields, " A=")  # e.g. "dovecot_login:info@example.com"
        # the authenticated identity: "dovecot_login:info@x" -> "info@x"
        self.auth_id = self.auth.partition(":")[2]
        self.user = _value(fields, " U=")

    @property
    def protocol(self) -> str:
        return _value(self._fields, " P=")

    @property
    def resolver(self) -> str:
        """``B=``, e.g. ``redirect_resolver`` (cPanel's PHP mail)."""
        return _value(self._fields, " B=")

    @property
    def size(self) -> int:
        size = _value(self._fields, " S=")
        return int(size) if size.isdigit() else 0

    @property
    def bounce_of(self) -> str:
        """``R=`` on a bounce: the message it bounces."""
        return _value(self._fields, " R=") if self.sender == "<>" else ""

    @property
    def subject(self) -> str:
        return _subject(self._tail)

    def subject_mentions(self, needles: tuple[str, ...]) -> bool:
        """Whether the raw Subject, lower-cased, holds any of ``needles``: a cheap test
        before the subject is read."""
        start = self._tail.find(' T="')
        if start < 0:
            return False
        text = self._tail[start + 4 :].lower()
        return any(needle in text for needle in needles)


def is_message_id(raw: str) -> bool:
    """``xxxxxx-xxxxxx-xx`` or Exim 4.97's ``xxxxxx-xxxxxxxxxxx-xxxx``."""
    size = len(raw)
    if size == 16:
        dashes = raw[6] == "-" and raw[13] == "-"
    elif size == 23:
        dashes = raw[6] == "-" and raw[18] == "-"
    else:
        return False
    return dashes and raw.count("-") == 2 and raw.isascii() and raw.replace("-", "").isalnum()


def parse(line: str, year: int = 1970) -> EximLine | None:
    """One mainlog line (own format or syslog-wrapped); None when it is not one."""
    line = line.rstrip("\r\n")
    try:
        if line[:2] in ("19", "20") and line[4:5] == "-" and line[10:11] == " ":
            return _own(line)
        wrapped = syslog.parse(line, year)
        if wrapped is None or not wrapped.program.startswith("exim"):
            return None
        inner = _own(wrapped.message) if wrapped.message[4:5] == "-" else None
        return inner or _body(wrapped.time, wrapped.pid, wrapped.message)
    except (ValueError, IndexError):
        return None


def _own(line: str) -> EximLine | None:
    when = iso_stamp(line[:19])
    rest = line[19:]
    if rest[:1] == ".":  # +subsecond_timestamp
        rest = rest[1:].lstrip("0123456789")
    rest = rest.lstrip(" ")
    if rest[:1] in ("+", "-") and rest[5:6] == " ":
        when -= zone_offset(rest[:5])
        rest = rest[6:]
    pid = 0
    if rest[:1] == "[":
        close = rest.index("]")
        pid = int(rest[1:close])
        rest = rest[close + 1 :].lstrip(" ")
    return _body(when, pid, rest)


def _body(when: int, pid: int, rest: str) -> EximLine:
    head, _, tail = rest.partition(" ")
    if is_message_id(head):
        flag, _, after = tail.partition(" ")
        if flag in FLAGS:
            return EximLine(when, pid, head, flag, after)
        return EximLine(when, pid, head, "", tail)
    return EximLine(when, pid, "", "", rest)


def arrival(rest: str) -> Arrival | None:
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
    marker = safe.find(" H=")
    if marker >= 0:
        client = _client(safe, marker + 3)
        if client is None:
            return None
        host, ip, after = client
        fields = safe[:marker] + safe[after:]
    return Arrival(sender, host, ip, fields, tail)


def _sender(rest: str) -> tuple[str, int]:
    """The envelope sender (a quoted local part may hold spaces) and where the fields start."""
    if rest.startswith('"'):
        close = rest.find('"', 1)
        while close > 0 and rest[close - 1 : close] == "\\":
            close = rest.find('"', close + 1)
        if close < 0:
            return "", 0
        end = rest.find(" ", close)
    else:
        end = rest.find(" ")
    end = len(rest) if end < 0 else end
    return field(rest[:end]), end


def _cut(tail: str) -> int:
    """Where the sender's own text (``id=``, ``T="``) begins."""
    ident, subject = tail.find(" id="), tail.find(' T="')
    if ident < 0:
        return subject if subject >= 0 else len(tail)
    return ident if subject < 0 or ident < subject else subject


def _client(text: str, at: int) -> tuple[str, str, int] | None:
    """``name (helo) [ip]:port`` starting at ``at``: host name, validated address, and where
    the text after it begins.  Exim's default HELO syntax check keeps spaces out of HELO
    names, so the first ``) [`` closes the HELO and an address literal given as HELO is never
    taken for the client's."""
    host = ""
    if text[at : at + 1] not in ("(", "["):
        space = text.find(" ", at)
        if space < 0:
            return None
        host, at = field(text[at:space]), space + 1
    if text[at : at + 1] == "(":
        close = text.find(") [", at)
        if close < 0:
            return None
        at = close + 2
    if text[at : at + 1] != "[":
        return None
    close = text.find("]", at)
    address = ip_text(text[at + 1 : close]) if close > 0 else ""
    if not address:
        return None
    after = text.find(" ", close)
    return host, address, len(text) if after < 0 else after


def _value(fields: str, key: str) -> str:
    start = fields.find(key)
    if start < 0:
        return ""
    start += len(key)
    end = fields.find(" ", start)
    return field(fields[start : len(fields) if end < 0 else end])


def _subject(tail: str) -> str:
    start = tail.find(' T="')
    if start < 0:
        return ""
    start += 4
    end = start
    while True:
        end = tail.find('"', end)
        if end < 0:
            end = len(tail)
            break
        if tail[end - 1 : end] != "\\":
            break
        end += 1
    return field(tail[start:end]).replace('\\"', '"')


def auth_failure(rest: str) -> tuple[str, str] | None:
    """``dovecot_login authenticator failed for H=(helo) [ip]:port: 535 … (set_id=user)``:
    the client address and the login that was tried ("" when none was given)."""
    marker = rest.find(" authenticator failed for H=")
    if (
        marker <= 0 or rest.find(" ", 0, marker) >= 0
    ):  # Exim's own words open the line, or it is not one
        return None
    client = _client(rest, marker + 28)
    if client is None:
        return None
    start = rest.rfind("(set_id=")
    login = rest[start + 8 : rest.rfind(")")] if start >= 0 else ""
    return client[1], field(login)
