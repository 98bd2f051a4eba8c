"""The syslog wrapper some hosts put around mail logs: ``Apr 14 12:00:05 host prog[pid]: msg``
(traditional) or ``2026-04-14T12:00:05.123+00:00 host prog[pid]: msg`` (RFC 3339)."""

from __future__ import annotations

from dataclasses import dataclass

from csm.logtail.formats.stamps import MONTHS, iso_stamp, syslog_stamp, zone_offset


@dataclass(frozen=True, slots=True)
class SyslogLine:
    time: int
    host: str
    program: str
    pid: int
    message: str


def parse(line: str, year: int) -> SyslogLine | None:
    """The wrapped message, or None when the line has no syslog header."""
    try:
        if line[:3] in MONTHS:
            return _traditional(line, year)
        if len(line) > 19 and line[4:5] == "-" and line[10:11] == "T":
            return _rfc3339(line)
    except (ValueError, KeyError, IndexError):
        return None
    return None


def _traditional(line: str, year: int) -> SyslogLine | None:
    parts = line.split(None, 4)
    if len(parts) < 5:
        return None
    month, day, clock, host, rest = parts
    return _program(syslog_stamp(month, day, clock, year), host, rest)


def _rfc3339(line: str) -> SyslogLine | None:
    parts = line.split(None, 2)
    if len(parts) < 3:
        return None
    stamp, host, rest = parts
    when = iso_stamp(stamp[:10] + " " + stamp[11:19])
    zone = stamp[19:].lstrip(".0123456789")
    if zone and zone != "Z":
        when -= zone_offset(zone.replace(":", ""))
    return _program(when, host, rest)


def _program(when: int, host: str, rest: str) -> SyslogLine | None:
    tag, sep, message = rest.partition(": ")
    if not sep or " " in tag:
        return None
    program, _, pid = tag.partition("[")
    pid_value = int(pid[:-1]) if pid.endswith("]") and pid[:-1].isdigit() else 0
    return SyslogLine(when, host, program, pid_value, message)
