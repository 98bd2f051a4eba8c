"""The IP blocks CSM made (and those ``auto_block: dry-run`` would have made), in the store."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from csm.store.times import parse_ts, ts


@dataclass(frozen=True, slots=True)
class Block:
    id: int
    network: str  # "192.0.2.7/32", "198.51.100.0/24"
    reason: str
    who: str
    at: datetime
    expires_at: datetime | None  # None: until unblocked
    source: str  # "manual" or "auto"
    finding: str = ""  # the check that asked for an automatic block
    dry_run: bool = False  # recorded only: `firewall.auto_block: dry-run`
    removed_at: datetime | None = None
    removed_by: str = ""

    def active(self, now: datetime) -> bool:
        """In force now: made, not removed, not expired."""
        expired = self.expires_at is not None and self.expires_at <= now
        return not self.dry_run and self.removed_at is None and not expired


COLUMNS = (
    "id, network, reason, who, at, expires_at, source, finding, dry_run, removed_at, removed_by"
)


def add(conn: sqlite3.Connection, block: Block) -> int:
    cursor = conn.execute(
        "INSERT INTO firewall_blocks (network, reason, who, at, expires_at, source, finding,"
        " dry_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            block.network,
            block.reason,
            block.who,
            ts(block.at),
            ts(block.expires_at) if block.expires_at else None,
            block.source,
            block.finding,
            int(block.dry_run),
        ),
    )
    return int(cursor.lastrowid or 0)


def remove(conn: sqlite3.Connection, ids: list[int], at: datetime, who: str) -> None:
    conn.executemany(
        "UPDATE firewall_blocks SET removed_at = ?, removed_by = ? WHERE id = ?",
        [(ts(at), who, i) for i in ids],
    )


def blocks(conn: sqlite3.Connection, network: str | None = None) -> list[Block]:
    """Every recorded block (of ``network``), newest first."""
    where, args = ("WHERE network = ?", (network,)) if network else ("", ())
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM firewall_blocks {where} ORDER BY at DESC, id DESC",
        args,
    )
    return [_block(row) for row in rows]


def auto_since(conn: sqlite3.Connection, since: datetime) -> int:
    """Automatic blocks (dry-run records too) made since ``since``."""
    row = conn.execute(
        "SELECT count(*) FROM firewall_blocks WHERE source = 'auto' AND at >= ?", (ts(since),)
    ).fetchone()
    return int(row[0])


def _block(row: tuple[object, ...]) -> Block:
    (id_, network, reason, who, at, expires, source, finding, dry, removed, removed_by) = row
    return Block(
        int(str(id_)),
        str(network),
        str(reason),
        str(who),
        parse_ts(str(at)),
        parse_ts(str(expires)) if expires else None,
        str(source),
        str(finding),
        bool(dry),
        parse_ts(str(removed)) if removed else None,
        str(removed_by or ""),
    )
