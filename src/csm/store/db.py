"""``csm.db``: open (WAL, busy timeout, foreign keys), migrate, and report health.

Writers call :meth:`Store.open`, which creates the state directory (0700) and applies pending
migrations.  Readers that must have no side effects (``status``, ``doctor``) call
:meth:`Store.open_readonly` or :func:`health`, which never create or change anything.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from csm.clock import Clock, SystemClock
from csm.errors import StoreError
from csm.store.migrations import MIGRATIONS, Migration
from csm.store.times import ts

DB_NAME = "csm.db"
BUSY_TIMEOUT_MS = 5000
LOCK_WAIT_S = 120  # how long a writer waits for another's transaction before giving up
STATE_DIR_MODE = 0o700
CACHE_KIB = 65536  # the writer's page cache: incident timelines are written all over the file


@dataclass(frozen=True, slots=True)
class MigrationState:
    applied: tuple[str, ...]
    pending: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def current(self) -> bool:
        return not self.pending and not self.unknown


@dataclass(frozen=True, slots=True)
class StoreHealth:
    path: Path
    exists: bool
    healthy: bool
    error: str | None
    integrity: str | None
    migrations: MigrationState | None
    size_bytes: int


class Store:
    """The one owner of the SQLite connection.  All SQL lives in ``store/`` and ``*/repo.py``,
    each table written by one module (the close guard and ``status`` only read)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.migrated: tuple[str, ...] = ()

    @classmethod
    def open(cls, state_dir: Path, *, clock: Clock | None = None) -> Store:
        """Open for writing: create the state directory and database, apply migrations."""
        try:
            state_dir.mkdir(mode=STATE_DIR_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create state directory {state_dir}: {exc.strerror}") from None
        path = state_dir / DB_NAME
        store = cls(_connect(f"file:{path}", path), path)
        try:
            store.conn.execute("PRAGMA journal_mode=WAL")
            store.conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints
            store.conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            store.migrated = store.migrate(clock or SystemClock())
        except sqlite3.DatabaseError as exc:
            store.close()
            raise StoreError(f"cannot open state store {path}: {exc}") from None
        return store

    @classmethod
    def open_readonly(cls, state_dir: Path) -> Store:
        path = state_dir / DB_NAME
        if not path.is_file():
            raise StoreError(f"state store {path} does not exist", fix="run `csm store migrate`")
        return cls(_connect(f"file:{path}?mode=ro", path), path)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on success, else rolled back.
        Writers take turns: another writer's transaction is waited for (up to
        :data:`LOCK_WAIT_S`), then the store is reported busy (a StoreError, never a crash)."""
        self._begin()
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _begin(self) -> None:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:  # each attempt waits up to the busy timeout inside SQLite
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"the state store {self.path} stayed busy for {LOCK_WAIT_S} s (another"
                        " CSM command is writing); nothing was changed",
                        fix="retry when the other command has finished",
                    ) from None

    def migration_state(self) -> MigrationState:
        known = [m.name for m in MIGRATIONS]
        applied = self._applied_names()
        return MigrationState(
            applied=tuple(applied),
            pending=tuple(name for name in known if name not in applied),
            unknown=tuple(name for name in applied if name not in known),
        )

    def migrate(self, clock: Clock) -> tuple[str, ...]:
        """Apply pending migrations in order; refuse a store written by a newer CSM."""
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        state = self.migration_state()
        if state.unknown:
            raise StoreError(
                f"state store {self.path} has migrations this CSM does not know: "
                f"{', '.join(state.unknown)} (written by a newer CSM?)",
                fix="upgrade CSM, or restore a backup taken with this version",
            )
        for migration in MIGRATIONS:
            if migration.name in state.pending:
                self._apply(migration, clock)
        return state.pending

    def integrity(self) -> str:
        rows = self.conn.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(row[0]) for row in rows)

    def _applied_names(self) -> list[str]:
        try:
            rows = self.conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        return [str(row[0]) for row in rows]

    def _apply(self, migration: Migration, clock: Clock) -> None:
        with self.transaction() as conn:
            for statement in statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                (migration.name, ts(clock.now())),
            )


def statements(script: str) -> Iterator[str]:
    """Split a SQL script into complete statements (semicolons inside triggers are kept)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise StoreError(f"incomplete SQL statement in migration: {pending.strip()[:60]!r}")


def _connect(uri: str, path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open state store {path}: {exc}") from None
    return conn


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def health(state_dir: Path) -> StoreHealth:
    """Read-only health of the store; never raises, never creates anything."""
    path = state_dir / DB_NAME
    size = _size(path)
    if not path.exists():
        return StoreHealth(path, False, False, "state store does not exist", None, None, 0)
    try:
        store = Store.open_readonly(state_dir)
        try:
            integrity, migrations = store.integrity(), store.migration_state()
        finally:
            store.close()
    except (sqlite3.Error, StoreError) as exc:
        message = exc.message if isinstance(exc, StoreError) else str(exc)
        return StoreHealth(path, True, False, message, None, None, size)
    error = _health_error(integrity, migrations)
    return StoreHealth(path, True, error is None, error, integrity, migrations, size)


def _health_error(integrity: str, migrations: MigrationState) -> str | None:
    if integrity != "ok":
        return f"integrity check failed: {integrity}"
    if migrations.unknown:
        return f"written by a newer CSM (unknown migrations: {', '.join(migrations.unknown)})"
    if migrations.pending:
        return f"{len(migrations.pending)} migration(s) pending: {', '.join(migrations.pending)}"
    return None


def _size(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.stat(f"{path}{suffix}").st_size
        except OSError:
            continue
    return total
