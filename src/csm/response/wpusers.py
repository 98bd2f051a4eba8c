"""A WordPress user's rows (a rogue administrator's), for ``csm db remove-user``: its
``<prefix>users`` row and every ``<prefix>usermeta`` row kept as JSON (among the database-object
backups, by :class:`csm.response.dbobjects.DbObjects`), deleted, and put back with the same ID
by ``csm db restore-object``."""

from __future__ import annotations

import json
import re
from typing import Any

import pymysql

from csm.accounts.model import WordPressSite
from csm.errors import NotFoundError, RefusedError
from csm.identifiers import quote_sql_identifier as quote
from csm.response.repo import ObjectBackup

KIND = "wp_user"
QUOTED = re.compile(r"`[A-Za-z0-9_$]+`")  # a table name as _tables() quoted it


def keep(conn: pymysql.Connection, site: WordPressSite, login: str) -> str:
    """The user's ``users`` row and every ``usermeta`` row, as the JSON a backup keeps;
    NotFoundError when there is no such user."""
    return json.dumps(_rows(conn, *_tables(site), login), default=str, sort_keys=True)


def delete(conn: pymysql.Connection, kept: str) -> None:
    """Delete the rows :func:`keep` kept (the caller commits)."""
    rows = json.loads(kept)
    with conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM {rows['usermeta']} WHERE user_id = %s", (rows["user"]["ID"],))  # noqa: S608
        cursor.execute(f"DELETE FROM {rows['users']} WHERE ID = %s", (rows["user"]["ID"],))  # noqa: S608


def restore(conn: pymysql.Connection, backup: ObjectBackup) -> None:
    """Put a removed user's rows back (refused when its ID or login is taken meanwhile)."""
    kept = json.loads(backup.definition)
    users, meta, user = kept["users"], kept["usermeta"], kept["user"]
    if not all(QUOTED.fullmatch(t) for t in (users, meta)):
        raise RefusedError(f"backup {backup.id} names no WordPress tables: not restored")
    with conn.cursor() as cursor:
        cursor.execute(f"USE {quote(backup.schema)}")
        cursor.execute(
            f"SELECT count(*) FROM {users} WHERE ID = %s OR user_login = %s",  # noqa: S608
            (user["ID"], user["user_login"]),
        )
        taken = cursor.fetchone()
        if taken and taken[0]:
            raise RefusedError(
                f"{backup.schema} has a user with ID {user['ID']} or login"
                f" {user['user_login']!r} again: not restored over it"
            )
        _insert(cursor, users, [user])
        _insert(cursor, meta, kept["meta"])


def _tables(site: WordPressSite) -> tuple[str, str]:
    return quote(f"{site.table_prefix}users"), quote(f"{site.table_prefix}usermeta")


def _rows(conn: pymysql.Connection, users: str, meta: str, login: str) -> dict[str, Any]:
    with conn.cursor(pymysql.cursors.DictCursor) as cursor:
        cursor.execute(f"SELECT * FROM {users} WHERE user_login = %s", (login,))  # noqa: S608
        found = cursor.fetchall()
        if not found:
            raise NotFoundError(f"no WordPress user {login!r} in this database: nothing removed")
        user = found[0]
        cursor.execute(f"SELECT * FROM {meta} WHERE user_id = %s", (user["ID"],))  # noqa: S608
        rows = list(cursor.fetchall())
    return {"users": users, "usermeta": meta, "user": user, "meta": rows}


def _insert(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        names = ", ".join(quote(name) for name in row)
        marks = ", ".join(["%s"] * len(row))
        cursor.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values()))  # noqa: S608
