"""The record of CSM backups (``backups`` table): each archive written by ``csm backup``, with
its size and sha256.  The incidents service reads the latest one: the runbook asks for a
backup before incident state changes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from csm.store.times import parse_ts, ts


@dataclass(frozen=True, slots=True)
class BackupRecord:
    path: str
    size: int
    sha256: str
    created_at: datetime
    who: str


def record(conn: sqlite3.Connection, backup: BackupRecord) -> None:
    conn.execute(
        "INSERT INTO backups (path, size, sha256, created_at, who) VALUES (?, ?, ?, ?, ?)",
        (backup.path, backup.size, backup.sha256, ts(backup.created_at), backup.who),
    )


def latest(conn: sqlite3.Connection) -> BackupRecord | None:
    row = conn.execute(
        "SELECT path, size, sha256, created_at, who FROM backups"
        " ORDER BY created_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return _record(row) if row else None


def by_sha256(conn: sqlite3.Connection, sha256: str) -> BackupRecord | None:
    row = conn.execute(
        "SELECT path, size, sha256, created_at, who FROM backups WHERE sha256 = ?"
        " ORDER BY id DESC LIMIT 1",
        (sha256,),
    ).fetchone()
    return _record(row) if row else None


def _record(row: tuple[str, int, str, str, str]) -> BackupRecord:
    path, size, sha256, created_at, who = row
    return BackupRecord(path, size, sha256, parse_ts(created_at), who)
