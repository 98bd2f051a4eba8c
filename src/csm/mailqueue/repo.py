"""The queue's records in the state store: reviews and their groups, the operator's decision
per message, removed messages kept in the quarantine, and per-account holds."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any

from csm.mailqueue.review import Verdict
from csm.mailqueue.spoolcopy import Copied
from csm.store.times import parse_ts, ts


@dataclass(frozen=True, slots=True)
class Decision:
    msgid: str
    decision: str  # remove | keep | release
    note: str
    who: str
    at: datetime
    review: str = ""  # the recorded review it rests on ("": none)
    account: str = ""
    approval: str = ""  # why it was decided without review ("": it was reviewed)


@dataclass(frozen=True, slots=True)
class Covered:
    """A message in a recorded review: the review, the group it proposed, the account."""

    msgid: str
    review: str
    group: str
    account: str


@dataclass(frozen=True, slots=True)
class Kept:
    """A removed message in the quarantine: whose it was, and its files as they were."""

    msgid: str
    account: str
    sender: str
    subject: str
    files: Copied
    removed_at: datetime
    who: str
    approval: str = ""
    restored_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    account: str
    reason: str
    who: str
    at: datetime
    method: str  # "cpanel" (whmapi1 hold_outgoing_email) or "acl" (CSM's held-senders list)
    frozen: int  # messages frozen when the hold began
    released_at: datetime | None = None


def add_review(
    conn: sqlite3.Connection,
    review_id: str,
    at: datetime,
    who: str,
    account: str,
    verdicts: list[Verdict],
) -> None:
    conn.execute(
        "INSERT INTO queue_reviews VALUES (?, ?, ?, ?, ?)",
        (review_id, ts(at), who, account, len(verdicts)),
    )
    conn.executemany(
        "INSERT INTO queue_review_items VALUES (?, ?, ?, ?, ?, ?)",
        [(review_id, v.id, v.group, json.dumps(v.reasons), v.account, v.sender) for v in verdicts],
    )


def review_group(conn: sqlite3.Connection, review_id: str, group: str) -> list[tuple[str, str]]:
    """(msgid, account) of a recorded review's group; empty for an unknown review."""
    rows = conn.execute(
        "SELECT msgid, account FROM queue_review_items WHERE review = ? AND grp = ? ORDER BY msgid",
        (review_id, group),
    )
    return [(row[0], row[1]) for row in rows]


def review_exists(conn: sqlite3.Connection, review_id: str) -> bool:
    found = conn.execute("SELECT 1 FROM queue_reviews WHERE id = ?", (review_id,)).fetchone()
    return found is not None


def reviews_of(
    conn: sqlite3.Connection, ids: Iterable[str], review_id: str = ""
) -> dict[str, list[Covered]]:
    """The recorded reviews that cover each id, newest first (only ``review_id`` when given);
    ids in no recorded review are left out."""
    only, extra = (" AND i.review = ?", [review_id]) if review_id else ("", [])
    found: dict[str, list[Covered]] = {}
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))  # only ? marks are joined
        rows = conn.execute(
            "SELECT i.msgid, i.review, i.grp, i.account FROM queue_review_items i"
            f" JOIN queue_reviews r ON r.id = i.review WHERE i.msgid IN ({marks}){only}"
            " ORDER BY r.created_at DESC, r.rowid DESC",
            [*chunk, *extra],
        )
        for row in rows:
            found.setdefault(row[0], []).append(Covered(row[0], row[1], row[2], row[3]))
    return found


def decide(conn: sqlite3.Connection, decisions: Iterable[Decision]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO queue_decisions"
        " (msgid, decision, note, who, at, review, account, approval)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (d.msgid, d.decision, d.note, d.who, ts(d.at), d.review, d.account, d.approval)
            for d in decisions
        ],
    )


def decisions(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, Decision]:
    found: dict[str, Decision] = {}
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))  # only ? marks are joined
        rows = conn.execute(
            "SELECT msgid, decision, note, who, at, review, account, approval"
            f" FROM queue_decisions WHERE msgid IN ({marks})",
            chunk,
        )
        for row in rows:
            found[row[0]] = Decision(
                row[0], row[1], row[2], row[3], parse_ts(row[4]), row[5], row[6], row[7]
            )
    return found


def _chunks(ids: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """Ids in chunks that stay below SQLite's limit on bound parameters."""
    wanted = list(ids)
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def keep(conn: sqlite3.Connection, kept: Kept) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO queue_quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, NULL)",
        (
            kept.msgid,
            kept.account,
            kept.sender,
            kept.subject,
            *astuple(kept.files),
            ts(kept.removed_at),
            kept.who,
            kept.approval,
        ),
    )


def forget(conn: sqlite3.Connection, msgid: str) -> None:
    """A quarantine record for a message Exim did not remove after all."""
    conn.execute("DELETE FROM queue_quarantine WHERE msgid = ? AND restored_at IS NULL", (msgid,))


def kept(conn: sqlite3.Connection, msgid: str | None = None) -> list[Kept]:
    sql = "SELECT * FROM queue_quarantine"
    rows = (
        conn.execute(sql + " WHERE msgid = ?", (msgid,))
        if msgid
        else conn.execute(sql + " ORDER BY removed_at, msgid")
    )
    return [_kept(row) for row in rows]


def restored(conn: sqlite3.Connection, msgid: str, at: datetime) -> None:
    """Back in the queue: the decision that removed it is void (it must be decided again)."""
    conn.execute("UPDATE queue_quarantine SET restored_at = ? WHERE msgid = ?", (ts(at), msgid))
    conn.execute("DELETE FROM queue_decisions WHERE msgid = ?", (msgid,))


def _kept(row: sqlite3.Row | tuple[Any, ...]) -> Kept:
    restored = parse_ts(row[14]) if row[14] else None
    return Kept(
        row[0],
        row[1],
        row[2],
        row[3],
        Copied(*row[4:11]),
        parse_ts(row[11]),
        row[12],
        row[13],
        restored,
    )


def add_hold(conn: sqlite3.Connection, hold: Hold) -> None:
    conn.execute(
        "INSERT INTO mail_holds (account, reason, who, at, method, frozen)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (hold.account, hold.reason, hold.who, ts(hold.at), hold.method, hold.frozen),
    )


def release_hold(conn: sqlite3.Connection, account: str, at: datetime, who: str) -> int:
    done = conn.execute(
        "UPDATE mail_holds SET released_at = ?, released_by = ? WHERE account = ?"
        " AND released_at IS NULL",
        (ts(at), who, account),
    )
    return done.rowcount


def holds(conn: sqlite3.Connection) -> list[Hold]:
    """The holds in force (released ones stay in the table, and in the audit log)."""
    rows = conn.execute(
        "SELECT account, reason, who, at, method, frozen, released_at FROM mail_holds"
        " WHERE released_at IS NULL ORDER BY at, account"
    )
    return [
        Hold(r[0], r[1], r[2], parse_ts(r[3]), r[4], r[5], parse_ts(r[6]) if r[6] else None)
        for r in rows
    ]
