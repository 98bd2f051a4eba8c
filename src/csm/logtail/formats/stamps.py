"""Log timestamps to epoch seconds without a datetime per line: the minute is parsed once and
cached, seconds are added as integers."""

from __future__ import annotations

import calendar
from functools import lru_cache
from typing import Final

MONTHS: Final = {m: i for i, m in enumerate(calendar.month_abbr) if m}
MINUTES_KEPT: Final = 100_000


@lru_cache(maxsize=4096)
def minute(year: int, month: int, day: int, hour: int, minutes: int) -> int:
    """Epoch seconds (UTC) of a minute; raises ValueError on an impossible date."""
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minutes < 60):
        raise ValueError("impossible time")
    return calendar.timegm((year, month, day, hour, minutes, 0, 0, 0, 0))


_MINUTES: Final[dict[str, int]] = {}


def iso_stamp(raw: str) -> int:
    """``YYYY-MM-DD HH:MM:SS`` (Exim's own format) to epoch seconds; ValueError if malformed.
    The minute is looked up (a day has 1,440: the map stays small and in the CPU's cache);
    only the seconds are parsed."""
    base = _MINUTES.get(raw[:16])
    if base is None:
        if len(raw) != 19 or raw[4] != "-" or raw[7] != "-" or raw[10] != " " or raw[13] != ":":
            raise ValueError("not an Exim timestamp")
        fields = (raw[0:4], raw[5:7], raw[8:10], raw[11:13], raw[14:16])
        if not all(_digits(f) for f in fields):
            raise ValueError("not an Exim timestamp")
        base = minute(*(int(f) for f in fields))
        if len(_MINUTES) > MINUTES_KEPT:
            _MINUTES.clear()
        _MINUTES[raw[:16]] = base
    elif raw[16] != ":":
        raise ValueError("not an Exim timestamp")
    return base + _seconds(raw[17:19])


def zone_offset(raw: str) -> int:
    """``+0300`` / ``-0530`` to seconds east of UTC; ValueError if malformed."""
    if len(raw) != 5 or raw[0] not in "+-" or not _digits(raw[1:]):
        raise ValueError("not a zone")
    seconds = int(raw[1:3]) * 3600 + int(raw[3:5]) * 60
    return seconds if raw[0] == "+" else -seconds


def syslog_stamp(month: str, day: str, clock: str, year: int) -> int:
    """``Apr 14`` ``12:00:05`` (syslog has no year: the caller supplies it)."""
    if len(clock) != 8 or clock[2] != ":" or clock[5] != ":":
        raise ValueError("not a syslog time")
    base = minute(year, MONTHS[month], int(day), int(clock[0:2]), int(clock[3:5]))
    return base + _seconds(clock[6:8])


def _seconds(raw: str) -> int:
    if len(raw) != 2 or not _digits(raw):
        raise ValueError("bad seconds")
    value = int(raw)
    if value > 60:
        raise ValueError("bad seconds")
    return value


def _digits(raw: str) -> bool:
    return raw.isascii() and raw.isdigit()
