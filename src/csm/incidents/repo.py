"""Incident SQL: the only place incidents, timelines, actions and pending sightings are read
and written."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
from csm.store.db import Store

SEVERITIES = ("critical", "high", "warning")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
COLUMNS = (
    "id, kind, status, active, severity, key, key_json, account, domain, mailbox, created_at, "
    "updated_at, closed_at, closed_by, flags, finding_count, event_seq, event_count, "
    "events_elided, fingerprint_seq, fingerprint_count, findings_elided, spray_targets"
)
_UPSERT = (
    f"INSERT INTO incidents ({COLUMNS}) VALUES ({', '.join('?' * 23)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS.split(", ")[1:])
)


def ts(at: datetime) -> str:
    """Stored times: fixed-width UTC text, so that text order is time order."""
    return at.astimezone(UTC).strftime(TIME_FORMAT)


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def _opt_ts(text: str | None) -> datetime | None:
    return parse_ts(text) if text else None


# -- rows <-> records -------------------------------------------------------------------------


def _row(incident: LiveIncident) -> tuple[Any, ...]:
    return (
        incident.id,
        incident.kind.value,
        incident.status.value,
        int(incident.status.active),
        incident.severity.value,
        incident.key.encode(),
        json.dumps(incident.key.fields(), sort_keys=True),
        incident.account,
        incident.domain,
        incident.mailbox,
        ts(incident.created_at),
        ts(incident.updated_at),
        incident.closed_at and ts(incident.closed_at),
        incident.closed_by,
        ",".join(sorted(incident.flags)),
        incident.finding_count,
        incident.event_seq,
        incident.event_count,
        incident.events_elided,
        incident.fingerprint_seq,
        incident.fingerprint_count,
        incident.findings_elided,
        incident.spray_targets,
    )


def _live(row: Sequence[Any]) -> LiveIncident:
    return LiveIncident(
        id=row[0],
        kind=Kind(row[1]),
        status=Status(row[2]),
        severity=Severity(row[4]),
        key=CorrelationKey.decode(json.loads(row[6])),
        account=row[7],
        domain=row[8],
        mailbox=row[9],
        created_at=parse_ts(row[10]),
        updated_at=parse_ts(row[11]),
        closed_at=_opt_ts(row[12]),
        closed_by=row[13],
        flags=set(filter(None, row[14].split(","))),
        finding_count=row[15],
        event_seq=row[16],
        event_count=row[17],
        events_elided=row[18],
        fingerprint_seq=row[19],
        fingerprint_count=row[20],
        findings_elided=row[21],
        spray_targets=row[22],
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


def exists(store: Store, incident_id: str) -> bool:
    row = store.conn.execute("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)).fetchone()
    return row is not None


def get(store: Store, incident_id: str) -> LiveIncident | None:
    row = store.conn.execute(
        f"SELECT {COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
    ).fetchone()
    return _live(row) if row else None


def load_active(store: Store) -> list[LiveIncident]:
    rows = store.conn.execute(
        f"SELECT {COLUMNS} FROM incidents WHERE active = 1 ORDER BY updated_at, id"
    ).fetchall()
    return [_live(row) for row in rows]


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


def timeline(store: Store, incident_id: str) -> list[TimelineEvent]:
    rows = store.conn.execute(
        "SELECT time, kind, check_name, severity, message, finding_id, pid, uid, process, path,"
        " remote_ip FROM incident_events WHERE incident_id = ? ORDER BY seq",
        (incident_id,),
    ).fetchall()
    return [
        TimelineEvent(parse_ts(r[0]), r[1], r[2], Severity(r[3]) if r[3] else None, *r[4:])
        for r in rows
    ]


def fingerprints(store: Store, incident_id: str) -> list[str]:
    rows = store.conn.execute(
        "SELECT fingerprint FROM incident_findings WHERE incident_id = ? ORDER BY seq",
        (incident_id,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def actions(store: Store, incident_id: str) -> list[Action]:
    rows = store.conn.execute(
        "SELECT time, action, result, details, who FROM incident_actions"
        " WHERE incident_id = ? ORDER BY id",
        (incident_id,),
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
    conn.executemany(_UPSERT, [_row(i) for i in changes.dirty.values()])
    conn.executemany(
        "INSERT INTO incident_events VALUES (?, ?, ?, 'finding', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (i, seq, ts(f.time), f.check, f.severity.value, f.message, fp, f.pid, f.uid,
             f.process, f.path, f.remote_ip)
            for i, seq, f, fp in changes.events
        ],
    )  # fmt: skip
    conn.executemany("INSERT INTO incident_findings VALUES (?, ?, ?)", changes.fingerprints)
    insert_actions(conn, changes.actions)
    for incident_id in sorted(changes.truncate):
        _cap(conn, changes.dirty[incident_id], timeline_cap, fingerprint_cap)
    _write_pending(conn, changes)


def insert_actions(conn: sqlite3.Connection, rows: Iterable[ActionRow]) -> None:
    conn.executemany(
        "INSERT INTO incident_actions (incident_id, time, action, result, details, who)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(a.incident_id, ts(a.time), a.action, a.result, a.details, a.who) for a in rows],
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
    """Keep the first and last halves; one marker row stands for everything in between."""
    if incident.event_count > timeline_cap:
        elided = _elide(conn, "incident_events", incident.id, timeline_cap, "kind = 'finding'")
        incident.events_elided += elided[0]
        message = f"{incident.events_elided} events elided to cap incident size"
        conn.execute(
            "INSERT INTO incident_events (incident_id, seq, time, kind, message)"
            " VALUES (?, ?, ?, 'truncated', ?)",
            (incident.id, elided[1], elided[2], message),
        )
        incident.event_count = timeline_cap
    if incident.fingerprint_count > fp_cap:
        elided = _elide(
            conn, "incident_findings", incident.id, fp_cap, "fingerprint NOT LIKE '...%'"
        )
        incident.findings_elided += elided[0]
        marker = f"...truncated:{incident.findings_elided} findings elided"
        conn.execute(
            "INSERT INTO incident_findings VALUES (?, ?, ?)", (incident.id, elided[1], marker)
        )
        incident.fingerprint_count = fp_cap
    update(conn, [incident])


def _elide(
    conn: sqlite3.Connection, table: str, incident_id: str, cap: int, counted: str
) -> tuple[int, int, str]:
    """Delete the middle rows; return how many real rows went, the first gone seq, its time."""
    head = cap // 2
    tail = cap - head - 1
    seqs = [
        r[0]
        for r in conn.execute(
            f"SELECT seq FROM {table} WHERE incident_id = ? ORDER BY seq",
            (incident_id,),
        )
    ]
    first, last = seqs[head], seqs[len(seqs) - tail - 1]
    span = (incident_id, first, last)
    gone = conn.execute(
        f"SELECT count(*) FROM {table} WHERE incident_id = ? AND seq BETWEEN ? AND ? AND {counted}",
        span,
    ).fetchone()[0]
    time = ""
    if table == "incident_events":
        time = conn.execute(
            "SELECT time FROM incident_events WHERE incident_id = ? AND seq = ?",
            (incident_id, first),
        ).fetchone()[0]
    conn.execute(f"DELETE FROM {table} WHERE incident_id = ? AND seq BETWEEN ? AND ?", span)
    return int(gone), int(first), str(time)


# -- close-guard records --------------------------------------------------------------------


class GuardRecords:
    """(a), (b) and (c) answered from the store's ``reviews``, ``credential_events`` and
    ``scan_results`` tables (filled by ``incidents review``, the credentials and the scans)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def reviewed(self, incident_id: str, account: str, since: datetime) -> datetime | None:
        return self._first(
            "SELECT min(at) FROM reviews WHERE at >= ? AND (incident_id = ?"
            " OR (incident_id IS NULL AND account = ? AND account != ''))",
            (ts(since), incident_id, account),
        )

    def rotated_or_deferred(self, account: str, mailbox: str, since: datetime) -> datetime | None:
        return self._first(
            "SELECT min(at) FROM credential_events WHERE at >= ? AND ("
            "(account = ? AND account != '') OR (item = ? AND ? != ''))",
            (ts(since), account, f"mailbox:{mailbox}", mailbox),
        )

    def clean_scan(self, account: str, since: datetime) -> datetime | None:
        return self._first(
            "SELECT min(finished_at) FROM scan_results WHERE account = ? AND finished_at >= ?"
            " AND complete = 1 AND clean = 1",
            (account, ts(since)),
        )

    def _first(self, sql: str, params: tuple[str, ...]) -> datetime | None:
        row = self.store.conn.execute(sql, params).fetchone()
        return parse_ts(row[0]) if row and row[0] else None


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
    """Retention: delete resolved and dismissed incidents last updated before ``cutoff``."""
    cursor = conn.execute(
        "DELETE FROM incidents WHERE active = 0 AND updated_at < ?", (ts(cutoff),)
    )
    return cursor.rowcount


def prune_pending(conn: sqlite3.Connection, cutoff: datetime) -> int:
    cursor = conn.execute("DELETE FROM incident_pending WHERE first_seen < ?", (ts(cutoff),))
    return cursor.rowcount


@dataclass(frozen=True, slots=True)
class CredentialEvent:
    """Input (b): an item rotated, or its rotation deferred for ``reason``."""

    account: str
    item: str
    action: str  # "rotated" or "deferred"
    at: datetime
    who: str
    reason: str = ""


def add_credential_event(conn: sqlite3.Connection, event: CredentialEvent) -> None:
    conn.execute(
        "INSERT INTO credential_events (at, who, account, item, action, reason)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (ts(event.at), event.who, event.account, event.item, event.action, event.reason),
    )


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
    conn.execute(
        "INSERT INTO scan_results (account, started_at, finished_at, complete, clean, findings,"
        " checks) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (scan.account, ts(scan.started_at), ts(scan.finished_at), int(scan.complete),
         int(scan.clean), scan.findings, scan.checks),
    )  # fmt: skip
