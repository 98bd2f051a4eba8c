"""The ``credential_events`` table, its only writer: every rotation and deferral, newest last.
(The close guard, :mod:`csm.incidents.guard`, reads it with its own queries.)"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from csm.credentials.model import Event
from csm.store.times import parse_ts, ts


def add(conn: sqlite3.Connection, event: Event) -> None:
    conn.execute(
        "INSERT INTO credential_events (at, who, account, item, action, reason)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (ts(event.at), event.who, event.account, event.item, event.action, _reason(event)),
    )


def events(conn: sqlite3.Connection, account: str, since: datetime | None = None) -> list[Event]:
    """The account's records (optionally from ``since`` on), oldest first."""
    rows = conn.execute(
        "SELECT at, who, item, action, reason FROM credential_events"
        " WHERE account = ? AND at >= ? ORDER BY at, id",
        (account, ts(since) if since else ""),
    )
    return [_event(account, *row) for row in rows]


def first_for_item(conn: sqlite3.Connection, item: str, since: datetime) -> datetime | None:
    """The first record of ``item`` (in any account) from ``since`` on."""
    row = conn.execute(
        "SELECT min(at) FROM credential_events WHERE item = ? AND at >= ?", (item, ts(since))
    ).fetchone()
    return parse_ts(row[0]) if row and row[0] else None


def _reason(event: Event) -> str:
    """Deferrals keep the operator's reason; rotations record their method there."""
    return event.reason if event.action == "deferred" else f"method={event.method}"


def _event(account: str, at: str, who: str, item: str, action: str, reason: str) -> Event:
    method = reason.removeprefix("method=")
    if action == "rotated":
        return Event(account, item, "rotated", parse_ts(at), who, "", method)
    return Event(account, item, "deferred", parse_ts(at), who, reason)
