"""The ``finding_ids`` table: the deterministic id (:attr:`Finding.origin`) of every finding
recorded, so that a log read twice, or by two commands at once, is recorded once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from csm.incidents.model import Finding
from csm.store.times import ts

CHUNK = 500  # ids per query (SQLite's default limit on parameters is far above)


def unseen(conn: sqlite3.Connection, findings: Sequence[Finding]) -> tuple[list[Finding], int]:
    """The findings not recorded before (those without an origin always count as new), and
    how many were left out as already recorded.  A repeated origin within the batch counts
    once too."""
    origins = [f.origin for f in findings if f.origin]
    if not origins:
        return list(findings), 0
    known = set(_recorded(conn, list(dict.fromkeys(origins))))
    fresh = []
    for finding in findings:
        if finding.origin:
            if finding.origin in known:
                continue
            known.add(finding.origin)
        fresh.append(finding)
    return fresh, len(findings) - len(fresh)


def mark(conn: sqlite3.Connection, findings: Iterable[Finding], at: datetime) -> None:
    when = ts(at)
    conn.executemany(
        "INSERT OR IGNORE INTO finding_ids (id, recorded_at) VALUES (?, ?)",
        ((f.origin, when) for f in findings if f.origin),
    )


def _recorded(conn: sqlite3.Connection, origins: list[str]) -> Iterable[str]:
    for start in range(0, len(origins), CHUNK):
        chunk = origins[start : start + CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(f"SELECT id FROM finding_ids WHERE id IN ({marks})", chunk)  # noqa: S608
        yield from (str(row[0]) for row in rows)
