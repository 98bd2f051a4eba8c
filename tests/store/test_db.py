from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csm.clock import FixedClock
from csm.errors import StoreError
from csm.store import db
from csm.store.migrations import MIGRATIONS

CLOCK = FixedClock(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))


def test_open_creates_a_private_state_dir_and_applies_every_migration(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = db.Store.open(state, clock=CLOCK)
    try:
        assert state.stat().st_mode & 0o777 == 0o700
        assert store.migrated == tuple(m.name for m in MIGRATIONS)
        rows = store.conn.execute("SELECT name, applied_at FROM schema_migrations").fetchall()
        assert rows == [(m.name, "2026-11-22T12:00:00.000000Z") for m in MIGRATIONS]
    finally:
        store.close()


def test_pragmas_are_set(tmp_path: Path) -> None:
    store = db.Store.open(tmp_path, clock=CLOCK)
    try:
        pragma = lambda name: store.conn.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == db.BUSY_TIMEOUT_MS
    finally:
        store.close()


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    db.Store.open(tmp_path, clock=CLOCK).close()
    store = db.Store.open(tmp_path, clock=CLOCK)
    try:
        assert store.migrated == ()
        assert store.migration_state().current
    finally:
        store.close()


def test_a_store_from_a_newer_csm_is_refused(tmp_path: Path) -> None:
    db.Store.open(tmp_path, clock=CLOCK).close()
    conn = sqlite3.connect(tmp_path / db.DB_NAME)
    conn.execute("INSERT INTO schema_migrations VALUES ('9999_future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="9999_future"):
        db.Store.open(tmp_path, clock=CLOCK)
    assert "newer CSM" in (db.health(tmp_path).error or "")


def test_transactions_roll_back_on_error(tmp_path: Path) -> None:
    store = db.Store.open(tmp_path, clock=CLOCK)
    try:

        def insert_then_fail() -> None:
            with store.transaction() as conn:
                conn.execute("INSERT INTO meta VALUES ('k', 'v')")
                raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            insert_then_fail()
        assert store.conn.execute("SELECT count(*) FROM meta").fetchone()[0] == 0
    finally:
        store.close()


def test_health_of_a_missing_store(tmp_path: Path) -> None:
    state = db.health(tmp_path)
    assert (state.exists, state.healthy) == (False, False)
    assert not (tmp_path / db.DB_NAME).exists()  # reading health creates nothing


def test_health_of_a_garbage_file(tmp_path: Path) -> None:
    (tmp_path / db.DB_NAME).write_bytes(b"this is not a database" * 100)
    state = db.health(tmp_path)
    assert state.exists and not state.healthy
    assert "not a database" in (state.error or "")


def test_health_reports_pending_migrations(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / db.DB_NAME).close()
    state = db.health(tmp_path)
    assert not state.healthy
    assert state.migrations is not None and state.migrations.pending
    assert "pending" in (state.error or "")


def test_readonly_store_refuses_writes(tmp_path: Path) -> None:
    db.Store.open(tmp_path, clock=CLOCK).close()
    store = db.Store.open_readonly(tmp_path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.conn.execute("INSERT INTO meta VALUES ('k', 'v')")
    finally:
        store.close()


def test_statement_splitter_keeps_trigger_bodies_whole() -> None:
    script = (
        "CREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
    )
    assert len(list(db.statements(script))) == 2
    with pytest.raises(StoreError, match="incomplete"):
        list(db.statements("CREATE TABLE b (x)"))


def test_migration_names_are_unique_and_ordered() -> None:
    names = [m.name for m in MIGRATIONS]
    assert names == sorted(set(names))
