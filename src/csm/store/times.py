"""Stored times: every time CSM writes to the store is one fixed-width UTC text with
microseconds (``2026-12-03T09:14:33.000000Z``), so that text order is time order.

What is displayed or put in JSON stays :func:`csm.clock.isoformat` (whole seconds)."""

from __future__ import annotations

from datetime import UTC, datetime

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def ts(at: datetime) -> str:
    """``at`` as stored: UTC, microseconds, a ``Z`` suffix."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return at.isoformat(timespec="microseconds")[:26] + "Z"  # drop "+00:00"


def parse_ts(text: str) -> datetime:
    """A stored time back as a timezone-aware UTC datetime."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
