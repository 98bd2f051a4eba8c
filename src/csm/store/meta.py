"""The ``meta`` table: the store's small named values (the incident id counter and salt).
Every module that keeps a value there reads and writes it through here."""

from __future__ import annotations

import sqlite3


def get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def put(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set ``key`` (inside the caller's transaction)."""
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def put_new(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set ``key`` unless it is set already: a value kept for the store's lifetime."""
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
