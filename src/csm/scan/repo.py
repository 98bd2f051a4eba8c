"""The ``scan_results`` table: one row per account scan, its only writer.

The close guard (:mod:`csm.incidents.guard`) and ``csm status`` read it with their own
queries: both sit in layers that may not import the scans."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from csm.store.times import ts


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """Input (c): one account scan; only ``complete`` and ``clean`` ones satisfy the guard."""

    account: str
    started_at: datetime
    finished_at: datetime
    complete: bool
    clean: bool
    findings: int = 0
    checks: str = ""


def add_scan_result(conn: sqlite3.Connection, scan: ScanRecord) -> None:
    """Record one scan (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO scan_results (account, started_at, finished_at, complete, clean, findings,"
        " checks) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            scan.account,
            ts(scan.started_at),
            ts(scan.finished_at),
            int(scan.complete),
            int(scan.clean),
            scan.findings,
            scan.checks,
        ),
    )
