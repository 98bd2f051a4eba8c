"""Times given on the command line: durations (``72h``, ``3d``) and RFC 3339 moments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csm import duration
from csm.errors import UsageError


def length(option: str, text: str) -> timedelta:
    try:
        return duration.parse(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def moment(option: str, text: str, *, assume_utc: bool = False) -> datetime:
    """An RFC 3339 time; without a zone it is refused, or taken as UTC when ``assume_utc``."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: not an RFC 3339 time: {text!r}") from None
    if value.tzinfo is not None:
        return value
    if not assume_utc:
        raise UsageError(f"{option} needs a timezone (e.g. 2026-11-20T00:00:00Z)")
    return value.replace(tzinfo=UTC)


def since(text: str | None) -> datetime | None:
    """``--since``: a duration back from now, or a moment."""
    if not text:
        return None
    try:
        return datetime.now(UTC) - duration.parse(text)
    except ValueError:
        return moment("--since", text, assume_utc=True)
