"""One owner per table: every table of the store is written (INSERT, UPDATE, DELETE, REPLACE)
by exactly one module; every other module only reads it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from csm.clock import FixedClock
from csm.store.db import Store

SOURCES = Path(__file__).resolve().parents[2] / "src"

OWNERS = {
    "meta": "csm/store/meta.py",
    "schema_migrations": "csm/store/db.py",
    "backups": "csm/store/backups.py",
    "audit_log": "csm/audit.py",
    "incidents": "csm/incidents/repo.py",
    "incident_events": "csm/incidents/repo.py",
    "incident_actions": "csm/incidents/repo.py",
    "incident_pending": "csm/incidents/repo.py",
    "reviews": "csm/incidents/repo.py",
    "finding_ids": "csm/incidents/seen.py",
    "log_positions": "csm/store/positions.py",
    "credential_events": "csm/credentials/repo.py",
    "scan_results": "csm/scan/repo.py",
    "quarantine": "csm/response/repo.py",
    "db_object_backups": "csm/response/repo.py",
    "queue_reviews": "csm/mailqueue/repo.py",
    "queue_review_items": "csm/mailqueue/repo.py",
    "queue_decisions": "csm/mailqueue/repo.py",
    "queue_quarantine": "csm/mailqueue/repo.py",
    "mail_holds": "csm/mailqueue/repo.py",
    "mail_stops": "csm/emergency/repo.py",
    "mail_stop_messages": "csm/emergency/repo.py",
    "firewall_blocks": "csm/firewall/repo.py",
}

# The schema's history: its one-off data rewrites run once, under the store's control.
SCHEMA = "csm/store/migrations.py"
# Modules that write the hosting accounts' MySQL databases (WordPress tables), not the store.
MYSQL_WRITERS = {
    "csm/credentials/wordpress.py",
    "csm/drill/databases.py",
    "csm/response/wpusers.py",
}

NAME = r"[\"`\[]?([A-Za-z_]\w*|\{[^}]*\})[\"`\]]?"  # a name, or one built at run time
WRITE = re.compile(
    rf"\b(?:INSERT\s+(?:OR\s+[A-Z]+\s+)?INTO|REPLACE\s+INTO|DELETE\s+FROM)\s+{NAME}"
    rf"|(?<!DO\s)\bUPDATE\s+(?:OR\s+[A-Z]+\s+)?{NAME}\s+SET\b"  # not an upsert's DO UPDATE
)


def written(text: str) -> list[str]:
    """The tables ``text`` writes, in order; ``{`` stands for a name built at run time."""
    names = (insert or update for insert, update in WRITE.findall(text))
    return ["{" if name.startswith("{") else name for name in names]


def schema_tables(tmp_path: Path) -> set[str]:
    store = Store.open(tmp_path, clock=FixedClock(datetime(2026, 12, 3, 9, 14, tzinfo=UTC)))
    try:
        rows = store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(name) for (name,) in rows if not str(name).startswith("sqlite_")}
    finally:
        store.close()


def writes() -> dict[str, set[str]]:
    """Every module under src/ that writes each table name (``{`` for a name built at run
    time)."""
    found: dict[str, set[str]] = {}
    for path in sorted(SOURCES.rglob("*.py")):
        module = path.relative_to(SOURCES).as_posix()
        if module == SCHEMA:
            continue
        for table in written(path.read_text(encoding="utf-8")):
            found.setdefault(table, set()).add(module)
    return found


def test_every_table_in_the_schema_has_one_owner(tmp_path: Path) -> None:
    tables = schema_tables(tmp_path)
    assert sorted(tables - OWNERS.keys()) == [], "tables without an owner in OWNERS"
    assert sorted(OWNERS.keys() - tables) == [], "OWNERS names tables the schema does not have"


def test_each_table_is_written_by_its_owner_only(tmp_path: Path) -> None:
    tables, found = schema_tables(tmp_path), writes()
    strays = {
        f"{table} written by {module}"
        for table, modules in found.items()
        if table in tables
        for module in modules
        if module != OWNERS[table]
    }
    assert sorted(strays) == []
    unwritten = {table for table in tables if OWNERS[table] not in found.get(table, set())}
    assert sorted(unwritten) == [], "an owner that never writes its table: a stale OWNERS"


def test_only_mysql_writers_write_other_tables(tmp_path: Path) -> None:
    """A write to a name the store does not have, or to a name built at run time, is a MySQL
    write (or a typo): only the MySQL writers may have one."""
    tables = schema_tables(tmp_path)
    strays = {
        f"{table} written by {module}"
        for table, modules in writes().items()
        if table not in tables
        for module in modules - MYSQL_WRITERS
    }
    assert sorted(strays) == []


def test_the_scanner_sees_each_kind_of_write() -> None:
    sql = (
        "INSERT INTO a VALUES (1); INSERT OR REPLACE INTO b VALUES (1);"
        " INSERT OR IGNORE INTO c VALUES (1); REPLACE INTO d VALUES (1);"
        " UPDATE e SET x = 1; UPDATE OR IGNORE f SET x = 1; DELETE FROM g;"
        ' DELETE FROM {table}; UPDATE "i" SET x = 1; SELECT x FROM h; INSERT INTO j (x)'
        " VALUES (1) ON CONFLICT (x) DO UPDATE SET x = 2; an UPDATE granting rights"
    )
    assert written(sql) == ["a", "b", "c", "d", "e", "f", "g", "{", "i", "j"]
    for owner in set(OWNERS.values()) | {SCHEMA} | MYSQL_WRITERS:
        assert (SOURCES / owner).is_file(), owner
