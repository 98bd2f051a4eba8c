"""The syslog wrappers mail logs come in, around ``prog[pid]: msg``:

- traditional (RFC 3164, what rsyslog and syslog-ng write by default):
  ``Apr 14 12:00:05 host prog[pid]: msg``, also with sub-seconds (``12:00:05.123456``);
- RFC 3339 (rsyslog's high-precision format, ``journalctl -o short-iso``):
  ``2026-04-14T12:00:05.123+00:00 host prog[pid]: msg``;
- RFC 5424 (``<22>1 2026-04-14T12:00:05Z host prog 123 - - msg``) and any of these behind
  a ``<PRI>`` that a relay kept;
- the host before the time (some collectors): ``host Apr 14 12:00:05 prog[pid]: msg``;
- ``2011:03:08-10:29:42 host prog[pid]: msg`` (appliance syslog);
- a program's own log file without a host (Dovecot's ``log_path``), with a traditional or an
  ISO time: ``Apr 14 12:00:05 imap-login: Info: msg``, ``2026-04-14 12:00:05 auth: Info:
  msg``: the program is then "" and the message whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from csm.logtail.formats.stamps import MONTHS, iso_stamp, syslog_stamp, zone_offset

BOM: Final = "\ufeff"  # RFC 5424 marks a UTF-8 message with it


@dataclass(frozen=True, slots=True)
class SyslogLine:
    time: int
    host: str
    program: str  # "" for a program's own log file (the message then starts with its name)
    pid: int
    message: str


def parse(line: str, year: int) -> SyslogLine | None:
    """The wrapped message, or None when the line has no syslog header."""
    try:
        if line[:1] == "<":
            line = _without_priority(line)
        if line[:3] in MONTHS:
            return _traditional(line, year)
        if line[4:5] == "-" and line[10:11] == "T":
            return _rfc3339(line)
        if line[4:5] == "-" and line[10:11] == " " and line[19:20] == " ":
            return SyslogLine(iso_stamp(line[:19]), "", "", 0, line[20:])  # own file, ISO time
        if line[4:5] == ":" and line[10:11] == "-":
            return _appliance(line)
        return _host_first(line, year)
    except (ValueError, KeyError, IndexError):
        return None


def _without_priority(line: str) -> str:
    """``<PRI>`` dropped; RFC 5424's ``1 `` version too (its header is read as RFC 3339's)."""
    close = line.index(">", 1, 5)
    if not line[1:close].isdigit():
        raise ValueError("not a priority")
    line = line[close + 1 :]
    if line[:2] == "1 ":
        return _rfc5424(line[2:])
    return line


def _rfc5424(line: str) -> str:
    """``TIMESTAMP HOST APP PROCID MSGID SD MSG`` as ``TIMESTAMP HOST APP[PROCID]: MSG``."""
    parts = line.split(" ", 5)
    if len(parts) < 6:
        raise ValueError("short RFC 5424 header")
    stamp, host, app, pid, _, rest = parts
    if rest[:1] == "[":  # structured data: elements up to the first "] " outside quotes
        rest = rest[_structured_end(rest) :]
    elif rest[:2] == "- ":
        rest = rest[2:]
    elif rest == "-":
        rest = ""
    tag = app if pid == "-" else f"{app}[{pid}]"
    return f"{stamp} {host} {tag}: {rest.removeprefix(BOM)}"


def _structured_end(rest: str) -> int:
    quoted, at = False, 0
    while at < len(rest):
        char = rest[at]
        if char == "\\":
            at += 1
        elif char == '"':
            quoted = not quoted
        elif char == "]" and not quoted and rest[at + 1 : at + 2] != "[":
            return at + 2
        at += 1
    return len(rest)


def _traditional(line: str, year: int) -> SyslogLine | None:
    parts = line.split(None, 4)
    if len(parts) < 5:
        return None
    month, day, clock, host, rest = parts
    when = syslog_stamp(month, day, clock[:8], year)
    if len(clock) > 8 and (clock[8] != "." or not clock[9:].isdigit()):
        raise ValueError("not a syslog time")
    if host.endswith(":"):  # no host: a program's own log file
        return SyslogLine(when, "", "", 0, f"{host} {rest}")
    return _program(when, host, rest)


def _rfc3339(line: str) -> SyslogLine | None:
    parts = line.split(None, 2)
    if len(parts) < 3:
        return None
    stamp, host, rest = parts
    return _program(_rfc3339_time(stamp), host, rest)


def _rfc3339_time(stamp: str) -> int:
    when = iso_stamp(stamp[:10] + " " + stamp[11:19])
    zone = stamp[19:].lstrip(".0123456789")
    if zone and zone not in ("Z", "z"):
        when -= zone_offset(zone.replace(":", ""))
    return when


def _appliance(line: str) -> SyslogLine | None:
    """``2011:03:08-10:29:42 host prog[pid]: msg``."""
    parts = line.split(None, 2)
    if len(parts) < 3 or len(parts[0]) != 19:
        return None
    stamp, host, rest = parts
    when = iso_stamp(f"{stamp[0:4]}-{stamp[5:7]}-{stamp[8:10]} {stamp[11:19]}")
    return _program(when, host, rest)


def _host_first(line: str, year: int) -> SyslogLine | None:
    """``host Apr 14 12:00:05 prog[pid]: msg`` or ``host 2026-04-14T12:00:05Z prog: msg``."""
    host, _, rest = line.partition(" ")
    if not host or host.endswith(":"):
        return None
    if rest[:3] in MONTHS and rest[15:16] == " ":
        return _traditional(f"{rest[:16]}{host} {rest[16:]}", year)
    if rest[4:5] == "-" and rest[10:11] == "T":
        stamp, _, after = rest.partition(" ")
        return _program(_rfc3339_time(stamp), host, after)
    return None


def _program(when: int, host: str, rest: str) -> SyslogLine | None:
    tag, sep, message = rest.partition(": ")
    if not sep or " " in tag:
        return None
    program, _, pid = tag.partition("[")
    pid_value = int(pid[:-1]) if pid.endswith("]") and pid[:-1].isdigit() else 0
    return SyslogLine(when, host, program, pid_value, message)
