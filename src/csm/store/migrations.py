"""Named, ordered schema migrations; each applied once, recorded in ``schema_migrations``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_initial",
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE audit_log (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            at      TEXT NOT NULL,
            who     TEXT NOT NULL,
            action  TEXT NOT NULL,
            target  TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        CREATE INDEX audit_log_target ON audit_log (target, at);
        CREATE TABLE incidents (
            id         TEXT PRIMARY KEY,
            kind       TEXT NOT NULL,
            severity   TEXT NOT NULL,
            status     TEXT NOT NULL,
            opened_at  TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at  TEXT,
            closed_by  TEXT
        );
        CREATE INDEX incidents_status ON incidents (status, severity);
        """,
    ),
)
