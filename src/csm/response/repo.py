"""The ``quarantine`` and ``db_object_backups`` tables: what was moved or dropped, and how to
put it back."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csm.store.times import parse_ts, ts

COLUMNS = (
    "id, original, size, sha256, uid, gid, mode, atime_ns, mtime_ns, reason, finding,"
    " quarantined_at, who, restored_at"
)


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    original: bytes  # the host path, as bytes (names need not be UTF-8)
    size: int
    sha256: str
    uid: int
    gid: int
    mode: int
    atime_ns: int
    mtime_ns: int
    reason: str
    finding: str
    quarantined_at: datetime
    who: str
    restored_at: datetime | None


@dataclass(frozen=True, slots=True)
class ObjectBackup:
    id: str
    account: str
    schema: str
    kind: str
    name: str
    definition: str
    dropped_at: datetime | None  # None: a preview, nothing dropped
    restored_at: datetime | None = None


def add(conn: sqlite3.Connection, entry: Entry) -> None:
    conn.execute(
        f"INSERT INTO quarantine ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.id,
            entry.original,
            entry.size,
            entry.sha256,
            entry.uid,
            entry.gid,
            entry.mode,
            entry.atime_ns,
            entry.mtime_ns,
            entry.reason,
            entry.finding,
            ts(entry.quarantined_at),
            entry.who,
            None,
        ),
    )


def delete(conn: sqlite3.Connection, entry_id: str) -> None:
    conn.execute("DELETE FROM quarantine WHERE id = ?", (entry_id,))


def mark_restored(conn: sqlite3.Connection, entry_id: str, at: datetime) -> None:
    conn.execute("UPDATE quarantine SET restored_at = ? WHERE id = ?", (ts(at), entry_id))


def get(conn: sqlite3.Connection, entry_id: str) -> Entry | None:
    row = conn.execute(f"SELECT {COLUMNS} FROM quarantine WHERE id = ?", (entry_id,)).fetchone()
    return _entry(row) if row else None


def entries(conn: sqlite3.Connection) -> list[Entry]:
    rows = conn.execute(f"SELECT {COLUMNS} FROM quarantine ORDER BY quarantined_at, id")
    return [_entry(row) for row in rows]


def _entry(row: Any) -> Entry:
    restored = row[13]
    return Entry(
        str(row[0]),
        bytes(row[1]),
        int(row[2]),
        str(row[3]),
        int(row[4]),
        int(row[5]),
        int(row[6]),
        int(row[7]),
        int(row[8]),
        str(row[9]),
        str(row[10]),
        parse_ts(row[11]),
        str(row[12]),
        parse_ts(restored) if restored else None,
    )


def add_object_backup(conn: sqlite3.Connection, backup: ObjectBackup, who: str) -> None:
    conn.execute(
        "INSERT INTO db_object_backups (id, account, schema, kind, name, definition, dropped_at,"
        " who) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            backup.id,
            backup.account,
            backup.schema,
            backup.kind,
            backup.name,
            backup.definition,
            ts(backup.dropped_at) if backup.dropped_at else "",
            who,
        ),
    )


def object_backup(conn: sqlite3.Connection, backup_id: str) -> ObjectBackup | None:
    row = conn.execute(
        "SELECT id, account, schema, kind, name, definition, dropped_at, restored_at"
        " FROM db_object_backups WHERE id = ?",
        (backup_id,),
    ).fetchone()
    if row is None:
        return None
    return ObjectBackup(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        parse_ts(row[6]) if row[6] else None,
        parse_ts(row[7]) if row[7] else None,
    )


def mark_object_restored(conn: sqlite3.Connection, backup_id: str, at: datetime) -> None:
    conn.execute("UPDATE db_object_backups SET restored_at = ? WHERE id = ?", (ts(at), backup_id))
