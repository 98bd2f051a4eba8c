"""Incident SQL."""

from __future__ import annotations

from csm.store.db import Store

ACTIVE_STATUSES = ("open", "contained")
SEVERITIES = ("critical", "high", "warning")


def active_counts(store: Store) -> dict[str, int]:
    """Open and contained incidents per severity (``critical``, ``high``, ``warning``)."""
    rows = store.conn.execute(
        "SELECT lower(severity), count(*) FROM incidents WHERE status IN (?, ?) GROUP BY 1",
        ACTIVE_STATUSES,
    ).fetchall()
    counts = dict.fromkeys(SEVERITIES, 0)
    counts.update({str(severity): int(n) for severity, n in rows})
    return counts
