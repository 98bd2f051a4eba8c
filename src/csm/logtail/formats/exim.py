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


@dataclass(slots=True)  # not frozen: compiled, a frozen dataclass is slow to make
class EximLine:
    time: int
    pid: int
    msgid: str  # "" for lines about no message (auth failures, connections, …)
    flag: str  # "<=", "=>", "->", ">>", "*>", "**", "==" or ""
    rest: str  # what follows the flag (or the id, or the time)


class Arrival:
    """The fields of a ``<=`` line.  Sender, client and identities are read at once; the rest
    when a detector asks (most lines need only a few).  Fields are looked for in the line's
    field text: from after the sender to the sender's own text, less the client address."""

    __slots__ = (
        "_after",
        "_cut",
        "_gap",
        "_rest",
        "_start",
        "auth",
        "auth_id",
        "host",
        "ip",
        "sender",
        "user",
    )

    def __init__(
        self, rest: str, sender: str, client: tuple[str, str, int, int], start: int, cut: int
    ) -> None:
        self._rest, self._start, self._cut = rest, start, cut
        self.sender = sender
        self.host, self.ip = client[0], client[1]
        self._gap, self._after = client[2], client[3]  # the client address: not a field
        self.auth = self._value(" A=")  # e.g. "dovecot_login:info@example.com"
        # the authenticated identity: "dovecot_login:info@x" -> "info@x"
        colon = self.auth.find(":")
        self.auth_id = self.auth[colon + 1 :] if colon >= 0 else ""
        self.user = self._value(" U=")

    @property
    def protocol(self) -> str:
        return self._value(" P=")

    @property
    def resolver(self) -> str:
        """``B=``, e.g. ``redirect_resolver`` (cPanel's PHP mail)."""
        return self._value(" B=")

    @property
    def size(self) -> int:
        size = self._value(" S=")
        return int(size) if size.isascii() and size.isdigit() else 0

    @property
    def bounce_of(self) -> str:
        """``R=`` on a bounce: the message it bounces."""
        return self._value(" R=") if self.sender == "<>" else ""

    @property
    def subject(self) -> str:
        return _subject(self._rest, self._start)

    @property
    def raw_subject(self) -> str:
        """The Subject as logged, up to the end of the line (quotes and escapes left in):
        for cheap tests before the subject is read."""
        start = self._rest.find(' T="', self._start)
        return self._rest[start + 4 :] if start >= 0 else ""

    def _value(self, key: str) -> str:
        """The first ``key`` field's value: before the client address, else after it."""
        rest, end = self._rest, self._gap
        at = rest.find(key, self._start, end)
        if at < 0:
            end = self._cut
            at = rest.find(key, self._after, end)
            if at < 0:
                return ""
        at += len(key)
        stop = rest.find(" ", at, end)
        return field(rest[at : end if stop < 0 else stop])


class SyslogCopies:
    """Exim logging to syslog writes a line meant for its main and its reject log twice
    (``syslog_duplication``, the default): the same process, second and text.  The second is a
    copy; lines of Exim's own files never are (the reject log is a file apart)."""

    KEPT: Final = 256

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int, str], None] = {}

    def copy(self, raw: str, line: EximLine) -> bool:
        if line.msgid or own_shape(raw):
            return False
        key = (line.time, line.pid, line.rest)
        if key in self.seen:
            del self.seen[key]  # each line has one copy
            return True
        if len(self.seen) >= self.KEPT:
            self.seen.clear()
        self.seen[key] = None
        return False


def is_message_id(raw: str) -> bool:
    """``xxxxxx-xxxxxx-xx`` or Exim 4.97's ``xxxxxx-xxxxxxxxxxx-xxxx`` (base 62: ASCII letters
    and digits)."""
    return message_id_at(raw.encode("latin-1", "replace"), 0, len(raw))


def message_id_at(raw: bytes, start: int, end: int) -> bool:
    """Whether ``raw[start:end]`` is a message id, read byte by byte (compiled, that is
    cheaper than slicing and string methods)."""
    size = end - start
    if size == 16:
        second = start + 13
    elif size == 23:
        second = start + 18
    else:
        return False
    if end > len(raw):
        return False
    for at in range(start, end):
        code = raw[at]
        if at == start + 6 or at == second:
            if code != 45:  # "-"
                return False
        elif not (48 <= code <= 57 or 65 <= code <= 90 or 97 <= code <= 122):
            return False
    return True


def own_shape(line: str) -> bool:
    """Whether a line opens with Exim's own timestamp (``YYYY-MM-DD hh…``): Exim's file, not a
    syslog wrapper."""
    return line[:2] in ("19", "20") and line[4:5] == "-" and line[10:11] == " "


def parse(line: str, year: int = 1970) -> EximLine | None:
    """One mainlog line (own format or syslog-wrapped); None when it is not one."""
    line = line.rstrip("\r\n")
    try:
        if own_shape(line):
            return _own(line)
        wrapped = syslog.parse(line, year)
        if wrapped is None or not wrapped.program.startswith("exim"):
            return None
        return _wrapped(wrapped)
    except (ValueError, IndexError):
        return None


def _wrapped(wrapped: syslog.SyslogLine) -> EximLine:
    """A syslog message of Exim's: with its own timestamp (``syslog_timestamp``) or without;
    a message that only looks timestamped (an authenticator named ``0000-x``) is one without."""
    message = wrapped.message
    if own_shape(message):
        try:
            inner = _own(message)
        except (ValueError, IndexError):
            inner = None
        if inner is not None:
            return inner
    return _body(wrapped.time, wrapped.pid, message)


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
    own text, so fields are looked for only before it, and after the client address.  The line
    is read in place, by offsets."""
    start = _sender_end(rest)
    if start <= 0:
        return None
    cut = _cut(rest, start)
    host = ("", "", cut, cut)
    marker = rest.find(" H=", start, cut)
    if marker >= 0:
        found = client(rest, marker + 3, cut)
        if found is None:
            return None
        host = (found[0], found[1], marker, found[2])
    return Arrival(rest, field(rest[:start]), host, start, cut)


def _sender_end(rest: str) -> int:
    """Where the envelope sender ends (a quoted local part may hold spaces); 0 for none."""
    if rest.startswith('"'):
        close = rest.find('"', 1)
        while close > 0 and rest[close - 1] == "\\":
            close = rest.find('"', close + 1)
        if close < 0:
            return 0
        end = rest.find(" ", close)
    else:
        end = rest.find(" ")
    return len(rest) if end < 0 else end


def _cut(rest: str, start: int) -> int:
    """Where the sender's own text (``id=``, ``T="``) begins."""
    ident, subject = rest.find(" id=", start), rest.find(' T="', start)
    if ident < 0:
        return subject if subject >= 0 else len(rest)
    return ident if subject < 0 or ident < subject else subject


def client(text: str, at: int, end: int) -> tuple[str, str, int] | None:
    """``name (helo) [ip]:port`` from ``at`` (before ``end``): host name, validated address,
    and where the text after it begins.  Exim's default HELO syntax check keeps spaces out of
    HELO names, so the first ``) [`` closes the HELO and an address literal given as HELO is
    never taken for the client's."""
    host = ""
    if at >= end or text[at] not in "([":
        space = text.find(" ", at, end)
        if space < 0:
            return None
        host, at = field(text[at:space]), space + 1
    if at < end and text[at] == "(":
        close = text.find(") [", at, end)
        if close < 0:
            return None
        at = close + 2
    if at >= end or text[at] != "[":
        return None
    close = text.find("]", at, end)
    address = ip_text(text[at + 1 : close]) if close > 0 else ""
    if not address:
        return None
    after = text.find(" ", close, end)
    return host, address, end if after < 0 else after


def _subject(text: str, start: int) -> str:
    begin = text.find(' T="', start)
    if begin < 0:
        return ""
    begin += 4
    end = begin
    while True:
        end = text.find('"', end)
        if end < 0:
            end = len(text)
            break
        if text[end - 1] != "\\":
            break
        end += 1
    return field(text[begin:end]).replace('\\"', '"')
