"""One stored time format: every time column CSM writes holds ``store.times.ts`` text, and the
migration rewrites the whole-second times older versions stored."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from csm.audit import AuditLog
from csm.clock import FixedClock
from csm.credentials import repo as credentials
from csm.credentials.model import Event
from csm.incidents.model import Status
from csm.scan import repo as scans
from csm.store import backups, db
from csm.store.migrations import MIGRATIONS
from csm.store.times import parse_ts, ts
from tests.incidents.conftest import Harness, finding, settings

STORED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
TIME_COLUMN = re.compile(r"at|time|first_seen|.+_at")
REWRITE = "0008_microsecond_times"
OLD = "2026-12-03T09:14:33Z"
NOW = datetime(2026, 12, 3, 9, 14, 33, 500000, tzinfo=UTC)


def test_ts_is_fixed_width_utc_with_microseconds_and_round_trips() -> None:
    local = datetime(2026, 12, 3, 10, 14, 33, 7, tzinfo=UTC).astimezone()
    assert ts(NOW) == "2026-12-03T09:14:33.500000Z"
    assert ts(datetime(2026, 12, 3, 9, 14, 33, tzinfo=UTC)) == "2026-12-03T09:14:33.000000Z"
    assert parse_ts(ts(local)) == local
    assert parse_ts(ts(NOW)).tzinfo is UTC


def old_store(state: Path) -> None:
    """A store at the schema before :data:`REWRITE`, with rows as older versions wrote them."""
    state.mkdir()
    conn = sqlite3.connect(state / db.DB_NAME)
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for migration in (m for m in MIGRATIONS if m.name < REWRITE):
        for statement in db.statements(migration.sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (migration.name, OLD))
    conn.executemany(
        "INSERT INTO audit_log (at, who, action, target) VALUES (?, 'cli:root', ?, 'INC-1')",
        [(OLD, "first"), ("2026-12-03T09:14:34Z", "second")],
    )
    conn.execute(
        "INSERT INTO backups (path, size, sha256, created_at, who) VALUES (?, 1, ?, ?, 'cli:root')",
        ("/root/b.tar.gz", "0" * 64, OLD),
    )
    conn.commit()
    conn.close()


def test_the_migration_rewrites_whole_second_times(tmp_path: Path) -> None:
    old_store(tmp_path / "state")
    store = db.Store.open(tmp_path / "state", clock=FixedClock(NOW))
    try:
        assert store.migrated[0] == REWRITE
        conn = store.conn
        applied = dict(conn.execute("SELECT name, applied_at FROM schema_migrations"))
        assert {applied[m.name] for m in MIGRATIONS if m.name < REWRITE} == {
            "2026-12-03T09:14:33.000000Z"
        }
        assert applied[REWRITE] == "2026-12-03T09:14:33.500000Z"
        assert [row[0] for row in conn.execute("SELECT at FROM audit_log ORDER BY id")] == [
            "2026-12-03T09:14:33.000000Z",
            "2026-12-03T09:14:34.000000Z",
        ]
        latest = backups.latest(conn)
        assert latest is not None
        assert latest.created_at == datetime(2026, 12, 3, 9, 14, 33, tzinfo=UTC)
        AuditLog(store, tmp_path / "log", FixedClock(NOW)).record("cli:root", "third", "INC-1")
        ordered = [row[0] for row in conn.execute("SELECT action FROM audit_log ORDER BY at")]
        assert ordered == ["first", "third", "second"]  # text order is time order again
    finally:
        store.close()


def test_every_stored_time_has_the_one_format(tmp_path: Path) -> None:
    h = Harness(tmp_path, settings())
    try:
        h.clock.advance(timedelta(microseconds=250000))
        store, now = h.store, h.clock.now()
        pending = finding(account="other")  # one sighting: kept pending
        opened = finding(severity="CRITICAL", account="acme", origin="log:a:1")
        (incident,) = h.record(opened, pending).incidents
        h.service.review(incident, "looked at it", "cli:test")
        h.service.set_status(incident, Status.CONTAINED, "", "cli:test")
        with store.transaction() as conn:
            backups.record(conn, backups.BackupRecord("/root/b.tar.gz", 1, "0" * 64, now, "t"))
            credentials.add(conn, Event("acme", "cpanel:acme", "deferred", now, "t", "why"))
            scans.add_scan_result(conn, scans.ScanRecord("acme", now, now, True, True))
        checked = stored_times(store.conn)
    finally:
        h.store.close()
    assert {table for table, _ in checked} >= {
        "audit_log",
        "backups",
        "credential_events",
        "finding_ids",
        "incident_actions",
        "incident_events",
        "incident_pending",
        "incidents",
        "reviews",
        "scan_results",
        "schema_migrations",
    }
    assert [(column, value) for column, value in checked if not STORED.fullmatch(value)] == []


def stored_times(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, value) of every value set in a TEXT time column of the store."""
    found: list[tuple[str, str]] = []
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        for _, column, kind, *_ in conn.execute(f"PRAGMA table_info({table})"):
            if kind.upper() == "TEXT" and TIME_COLUMN.fullmatch(column):
                rows = conn.execute(f"SELECT {column} FROM {table} WHERE {column} != ''")
                found += [(table, str(value)) for (value,) in rows if value is not None]
    return found
