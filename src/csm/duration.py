"""Durations as operators write them: ``90s``, ``15m``, ``72h``, ``3d``, ``2w``, or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+")


def parse(text: str) -> timedelta:
    """``72h`` → 72 hours; raise ``ValueError`` naming the accepted units otherwise."""
    raw = text.strip().lower()
    if not _WHOLE.fullmatch(raw):
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit s, m, h, d or w (72h, 3d)"
        )
    return timedelta(seconds=sum(int(n) * UNITS[unit] for n, unit in _PART.findall(raw)))


def render(delta: timedelta) -> str:
    """A form :func:`parse` reads back, in one unit when it divides: ``72h`` → ``3d``, ``30d``."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    parts = []
    for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
