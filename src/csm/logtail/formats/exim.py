"""Exim mainlog lines (``/var/log/exim_mainlog``), as bytes, parsed just enough.

``parse()`` splits a line into time, pid, message id, flag and the rest; ``arrival()`` reads the
fields of a ``<=`` line.  Fields are read only after the validated ``[client-ip]`` of ``H=``, and
the quoted sender and subject are consumed whole, so text an attacker controls (HELO name,
envelope sender, subject) cannot forge ``A=``, ``U=``, ``P=`` or ``H=``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from csm.logtail.formats import syslog
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


@dataclass(frozen=True, slots=True)
class Arrival:
    """The fields of a ``<=`` line that detectors use."""

    sender: str
    host: str = ""
    ip: str = ""
    auth: str = ""  # A=, e.g. "dovecot_login:info@example.com"
    user: str = ""  # U=
    protocol: str = ""  # P=
    size: int = 0
    subject: str = ""  # T=
    resolver: str = ""  # B=, e.g. "redirect_resolver" (cPanel PHP mail)
    bounce_of: str = ""  # R= on a bounce: the message it bounces

    @property
    def auth_id(self) -> str:
        """The authenticated identity: ``dovecot_login:info@x`` → ``info@x``."""
        return self.auth.partition(":")[2] if ":" in self.auth else ""


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
    """The fields of a ``<=`` line's rest; None when it is malformed."""
    tokens = _Tokens(rest)
    sender = tokens.word()
    if not sender:
        return None
    fields: dict[str, str] = {}
    host = ip = ""
    while not tokens.done():
        word = tokens.word()
        if word == "H=" or word.startswith("H="):
            host, ip = _client(word[2:], tokens)
            if not ip:
                return None
        elif word == "for":
            break
        elif "=" in word:
            key, _, value = word.partition("=")
            fields.setdefault(key, value)
    return Arrival(
        sender=_unquote(sender),
        host=host,
        ip=ip,
        auth=fields.get("A", ""),
        user=fields.get("U", ""),
        protocol=fields.get("P", ""),
        size=int(fields["S"]) if fields.get("S", "").isdigit() else 0,
        subject=_unquote(fields.get("T", "")),
        resolver=fields.get("B", ""),
        bounce_of=fields.get("R", "") if sender == "<>" else "",
    )


def _client(first: str, tokens: _Tokens) -> tuple[str, str]:
    """``H=name (helo) [ip]:port``: the name, and the first ``[ip]`` word outside the HELO's
    parentheses that validates as an address.  Exim's default HELO syntax check keeps spaces
    out of HELO names, so an address literal given as HELO (``([192.0.2.1])``) is never taken
    for the client's address."""
    host = "" if first.startswith("(") else first
    word, in_helo = first, False
    while True:
        if in_helo or word.startswith("("):
            in_helo = not word.endswith(")")
        elif word.startswith("["):
            address = _address(word)
            if address:
                return host, address
        if tokens.done():
            return host, ""
        word = tokens.word()


def auth_failure(rest: bytes) -> tuple[str, str] | None:
    """``dovecot_login authenticator failed for H=(helo) [ip]:port: 535 … (set_id=user)``:
    the client address and the login that was tried ("" when none was given)."""
    marker = rest.find(b"authenticator failed for ")
    if marker < 0:
        return None
    tokens = _Tokens(rest[marker + 25 :])
    first = tokens.word()
    if not first.startswith("H="):
        return None
    _, ip = _client(first[2:], tokens)
    if not ip:
        return None
    start = rest.rfind(b"(set_id=")
    login = rest[start + 8 : rest.rfind(b")")] if start >= 0 else b""
    return ip, login.decode("utf-8", "replace")


def _address(token: str) -> str:
    close = token.find("]")
    if close < 0 or token[close + 1 : close + 2] not in ("", ":"):
        return ""
    try:
        address = ipaddress.ip_address(token[1:close])
    except ValueError:
        return ""
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


class _Tokens:
    """Space-separated words; a word that opens a double quote runs to the closing quote
    (backslash escapes honoured), so a quoted sender or subject is one word."""

    def __init__(self, data: bytes) -> None:
        self.text = data.decode("utf-8", "replace")
        self.pos = 0

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def word(self) -> str:
        text, start = self.text, self.pos
        while start < len(text) and text[start] == " ":
            start += 1
        end = start
        quoted = False
        while end < len(text):
            char = text[end]
            if char == "\\" and quoted:
                end += 2
                continue
            if char == '"':
                quoted = not quoted
            elif char == " " and not quoted:
                break
            end += 1
        self.pos = end + 1
        return text[start:end]
