"""Incident SQL: the only writer of the incident tables (``incidents``, ``incident_events``,
``incident_actions``, ``incident_pending`` and ``reviews``) and of the incident id counter and
salt in ``meta`` (through :mod:`csm.store.meta`)."""

from __future__ import annotations

import json
import operator
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csm.incidents.live import ActionRow, Changes, LiveIncident
from csm.incidents.model import (
    Action,
    CorrelationKey,
    Finding,
    Kind,
    Severity,
    Status,
    TimelineEvent,
)
from csm.store import meta
from csm.store.db import Store
from csm.store.times import parse_ts, ts

SEVERITIES = ("critical", "high", "warning")
CREATED_KEY = "incidents.created"
SALT_KEY = "incidents.id_salt"
COUNTERS = (
    "finding_count",
    "event_seq",
    "event_count",
    "events_elided",
    "fingerprint_count",
    "findings_elided",
    "spray_targets",
)
_counters = operator.attrgetter(*COUNTERS)
COLUMNS = (
    "num, id, kind, status, active, severity, key, key_json, account, domain, mailbox, created_at, "
    f"updated_at, closed_at, closed_by, flags, {', '.join(COUNTERS)}"
)
_UPSERT = (
    f"INSERT INTO incidents ({COLUMNS}) VALUES ({', '.join('?' * len(COLUMNS.split(', ')))}) "
    "ON CONFLICT (num) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS.split(", ")[2:])
)


_MERGED = (
    "UPDATE incidents SET "
    + ", ".join(f"{column} = ?" for column in ("severity", "updated_at", "flags", *COUNTERS))
    + " WHERE num = ?"
)


def _merged(incident: LiveIncident) -> tuple[Any, ...]:
    """What a merge changes; the columns behind the status, kind and key indexes stay put."""
    return (
        incident.severity,  # a StrEnum is stored as its text
        ts(incident.updated_at),
        ",".join(sorted(incident.flags)),
        *_counters(incident),
        incident.num,
    )


def _opt_ts(text: str | None) -> datetime | None:
    return parse_ts(text) if text else None


# -- rows <-> records -------------------------------------------------------------------------


def _row(incident: LiveIncident) -> tuple[Any, ...]:
    return (
        incident.num,
        incident.id,
        incident.kind.value,
        incident.status.value,
        int(incident.status.active),
        incident.severity.value,
        incident.key_text,
        incident.key_json,
        incident.account,
        incident.domain,
        incident.mailbox,
        ts(incident.created_at),
        ts(incident.updated_at),
        incident.closed_at and ts(incident.closed_at),
        incident.closed_by,
        ",".join(sorted(incident.flags)),
        *_counters(incident),
    )


def _live(row: Sequence[Any]) -> LiveIncident:
    (
        num,
        ident,
        kind,
        status,
        _active,
        severity,
        _key,
        key_json,
        account,
        domain,
        mailbox,
        created,
        updated,
        closed_at,
        closed_by,
        flags,
        *counters,
    ) = row
    return LiveIncident(
        num=num,
        id=ident,
        kind=Kind(kind),
        status=Status(status),
        severity=Severity(severity),
        key=CorrelationKey.decode(json.loads(key_json)),
        account=account,
        domain=domain,
        mailbox=mailbox,
        created_at=parse_ts(created),
        updated_at=parse_ts(updated),
        closed_at=_opt_ts(closed_at),
        closed_by=closed_by,
        flags=set(filter(None, flags.split(","))),
        **dict(zip(COUNTERS, counters, strict=True)),
    )


def finding_to_json(finding: Finding) -> dict[str, Any]:
    data = {f: getattr(finding, f) for f in Finding.__dataclass_fields__}
    data["severity"] = finding.severity.value
    data["time"] = ts(finding.time)
    data["details"] = dict(finding.details)
    return data


def finding_from_json(data: dict[str, Any]) -> Finding:
    values = dict(data)
    values["severity"] = Severity(values["severity"])
    values["time"] = parse_ts(values["time"])
    return Finding(**values)


# -- reading ------------------------------------------------------------------------------------


def get(store: Store, incident_id: str) -> LiveIncident | None:
    row = store.conn.execute(
        f"SELECT {COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
    ).fetchone()
    return _live(row) if row else None


def load_active(store: Store) -> list[LiveIncident]:
    """Every active incident, oldest activity first."""
    rows = store.conn.execute(
        f"SELECT {COLUMNS} FROM incidents WHERE active = 1 ORDER BY updated_at, id"
    ).fetchall()
    return [_live(row) for row in rows]


def load_created(store: Store) -> int:
    """How many incidents this store has ever created (the id counter)."""
    return int(meta.get(store.conn, CREATED_KEY) or 0)


def load_salt(store: Store) -> int:
    """The store's incident id salt: kept with its first incident, drawn until then."""
    salt = meta.get(store.conn, SALT_KEY)
    return int(salt) if salt else secrets.randbits(48)


def load_pending(store: Store) -> dict[str, list[Finding]]:
    rows = store.conn.execute("SELECT key, findings FROM incident_pending").fetchall()
    return {key: [finding_from_json(f) for f in json.loads(data)] for key, data in rows}


@dataclass(frozen=True, slots=True)
class Filter:
    """Which incidents: by statuses, kind, account/domain/mailbox (case-insensitive), age."""

    statuses: tuple[Status, ...] = ()
    kind: str | None = None
    account: str | None = None
    domain: str | None = None
    mailbox: str | None = None
    updated_before: datetime | None = None
    updated_after: datetime | None = None
    severity: Severity | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.statuses and set(self.statuses) == {Status.OPEN, Status.CONTAINED}:
            clauses.append("active = 1")
        elif self.statuses:
            clauses.append(f"status IN ({', '.join('?' * len(self.statuses))})")
            params += [s.value for s in self.statuses]
        if self.kind:
            clauses.append("kind = ?")
            params.append(self.kind)
        for column in ("account", "domain", "mailbox"):
            value = getattr(self, column)
            if value:
                clauses.append(f"{column} = ? COLLATE NOCASE")
                params.append(value)
        if self.updated_before is not None:
            clauses.append("updated_at <= ?")
            params.append(ts(self.updated_before))
        if self.updated_after is not None:
            clauses.append("updated_at >= ?")
            params.append(ts(self.updated_after))
        if self.severity is not None:
            clauses.append("severity = ?")
            params.append(self.severity.value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def page(
    store: Store, where: Filter, *, limit: int | None, offset: int, newest_first: bool = True
) -> tuple[list[LiveIncident], int]:
    sql, params = where.where()
    total = store.conn.execute(f"SELECT count(*) FROM incidents{sql}", params).fetchone()[0]
    order = "DESC" if newest_first else "ASC"
    query = f"SELECT {COLUMNS} FROM incidents{sql} ORDER BY updated_at {order}, id {order}"
    query += " LIMIT ? OFFSET ?"
    rows = store.conn.execute(query, [*params, -1 if limit is None else limit, offset]).fetchall()
    return [_live(row) for row in rows], int(total)


def timeline(store: Store, incident: LiveIncident) -> list[TimelineEvent]:
    """The kept findings, with one marker where elided ones were."""
    rows = store.conn.execute(
        "SELECT time, kind, check_name, severity, message, finding_id, pid, uid, process,"
        " path, remote_ip FROM incident_events WHERE incident = ? ORDER BY seq",
        (incident.num,),
    ).fetchall()
    events: list[TimelineEvent] = []
    for at, kind, *rest in rows:
        if kind == "finding":
            check, severity, message, *tail = rest
            events.append(
                TimelineEvent(parse_ts(at), kind, check, Severity(severity), message, *tail)
            )
        elif not events or events[-1].kind != "truncated":
            message = f"{incident.events_elided} events elided to cap incident size"
            events.append(TimelineEvent(parse_ts(at), "truncated", message=message))
    return events


def fingerprints(store: Store, incident: LiveIncident) -> list[str]:
    """Every kept fingerprint, with one marker where the middle was dropped at the cap."""
    rows = store.conn.execute(
        "SELECT seq, finding_id FROM incident_events WHERE incident = ? ORDER BY seq",
        (incident.num,),
    ).fetchall()
    prints: list[str] = []
    last: int | None = None
    for seq, fingerprint in rows:
        if last is not None and seq - last > 1:  # the gap the cap left
            prints.append(f"...truncated:{incident.findings_elided} findings elided")
        prints.append(fingerprint)
        last = seq
    return prints


def actions(store: Store, incident: int) -> list[Action]:
    rows = store.conn.execute(
        "SELECT time, action, result, details, who FROM incident_actions"
        " WHERE incident = ? ORDER BY id",
        (incident,),
    ).fetchall()
    return [Action(parse_ts(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def active_counts(store: Store) -> dict[str, int]:
    """Open and contained incidents per severity (``critical``, ``high``, ``warning``)."""
    rows = store.conn.execute(
        "SELECT lower(severity), count(*) FROM incidents WHERE active = 1 GROUP BY 1"
    ).fetchall()
    counts = dict.fromkeys(SEVERITIES, 0)
    counts.update({str(severity): int(n) for severity, n in rows})
    return counts


# -- writing ------------------------------------------------------------------------------------


def write(
    conn: sqlite3.Connection, changes: Changes, timeline_cap: int, fingerprint_cap: int
) -> None:
    """Write one batch of changes (inside the caller's transaction)."""
    full = changes.new | changes.rekeyed
    conn.executemany(_UPSERT, [_row(i) for i in changes.dirty.values() if i.num in full])
    conn.executemany(_MERGED, [_merged(i) for i in changes.dirty.values() if i.num not in full])
    conn.executemany(
        "INSERT INTO incident_events VALUES (?, ?, ?, 'finding', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i,
                seq,
                ts(f.time),
                f.check,
                f.severity,
                f.message,
                fp,
                f.pid,
                f.uid,
                f.process,
                f.path,
                f.remote_ip,
            )
            for i, seq, f, fp in changes.events
        ],
    )
    insert_actions(conn, changes.actions)
    for num in sorted(changes.truncate):
        _cap(conn, changes.dirty[num], timeline_cap, fingerprint_cap)
    _write_pending(conn, changes)
    meta.put(conn, CREATED_KEY, str(changes.created))
    if changes.new:
        meta.put_new(conn, SALT_KEY, str(changes.salt))


def insert_actions(conn: sqlite3.Connection, rows: Iterable[ActionRow]) -> None:
    conn.executemany(
        "INSERT INTO incident_actions (incident, time, action, result, details, who)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(a.incident, ts(a.time), a.action, a.result, a.details, a.who) for a in rows],
    )


def update(conn: sqlite3.Connection, incidents: Iterable[LiveIncident]) -> None:
    conn.executemany(_UPSERT, [_row(i) for i in incidents])


def _write_pending(conn: sqlite3.Connection, changes: Changes) -> None:
    conn.executemany(
        "DELETE FROM incident_pending WHERE key = ?", [(k,) for k in changes.pending_cleared]
    )
    conn.executemany(
        "INSERT OR REPLACE INTO incident_pending (key, first_seen, findings) VALUES (?, ?, ?)",
        [
            (key, ts(found[0].time), json.dumps([finding_to_json(f) for f in found]))
            for key, found in changes.pending.items()
        ],
    )


def _cap(conn: sqlite3.Connection, incident: LiveIncident, timeline_cap: int, fp_cap: int) -> None:
    """Keep the first and last halves of the timeline (the middle keeps only fingerprints),
    and the first and last halves of the fingerprints (the middle is deleted)."""
    if incident.event_count > timeline_cap:
        incident.events_elided += _middle(
            conn,
            incident.num,
            timeline_cap,
            "kind = 'finding'",
            "UPDATE incident_events SET kind = 'elided', check_name = '', severity = NULL,"
            " message = '', process = '', path = '', remote_ip = ''",
        )
        incident.event_count = timeline_cap
    if incident.fingerprint_count > fp_cap:
        incident.findings_elided += _middle(
            conn, incident.num, fp_cap, "1", "DELETE FROM incident_events"
        )
        incident.fingerprint_count = fp_cap
    update(conn, [incident])


def _middle(conn: sqlite3.Connection, incident: int, cap: int, which: str, change: str) -> int:
    """Apply ``change`` to the rows (of those matching ``which``) between the first and last
    halves of ``cap`` (one slot is the marker's); return how many rows it touched."""
    head = cap // 2
    tail = cap - head - 1
    seqs = [
        row[0]
        for row in conn.execute(
            f"SELECT seq FROM incident_events WHERE incident = ? AND {which} ORDER BY seq",
            (incident,),
        )
    ]
    middle = seqs[head : len(seqs) - tail]
    if not middle:
        return 0
    conn.execute(
        f"{change} WHERE incident = ? AND {which} AND seq BETWEEN ? AND ?",
        (incident, middle[0], middle[-1]),
    )
    return len(middle)


# -- mailboxes, reviews and retention ----------------------------------------------------------


def active_mailboxes(conn: sqlite3.Connection, account: str | None) -> list[str]:
    """The mailboxes active incidents name: the account's, or every account's (None)."""
    where = "" if account is None else " AND account = ?"
    rows = conn.execute(
        "SELECT DISTINCT mailbox FROM incidents WHERE active = 1 AND mailbox != ''"
        + where
        + " ORDER BY mailbox",
        () if account is None else (account,),
    )
    return [row[0] for row in rows]


def add_review(
    conn: sqlite3.Connection,
    at: datetime,
    who: str,
    incident_id: str | None,
    account: str,
    note: str,
) -> None:
    conn.execute(
        "INSERT INTO reviews (at, who, incident_id, account, note) VALUES (?, ?, ?, ?, ?)",
        (ts(at), who, incident_id, account, note),
    )


def delete_closed_before(conn: sqlite3.Connection, cutoff: datetime) -> int:
    """Retention: delete resolved and dismissed incidents last updated before ``cutoff``,
    with their timelines, fingerprints and actions."""
    doomed = "SELECT num FROM incidents WHERE active = 0 AND updated_at < ?"
    conn.execute(f"DELETE FROM incident_events WHERE incident IN ({doomed})", (ts(cutoff),))
    conn.execute(f"DELETE FROM incident_actions WHERE incident IN ({doomed})", (ts(cutoff),))
    cursor = conn.execute(
        "DELETE FROM incidents WHERE active = 0 AND updated_at < ?", (ts(cutoff),)
    )
    return cursor.rowcount


def prune_pending(conn: sqlite3.Connection, cutoff: datetime) -> int:
    cursor = conn.execute("DELETE FROM incident_pending WHERE first_seen < ?", (ts(cutoff),))
    return cursor.rowcount
