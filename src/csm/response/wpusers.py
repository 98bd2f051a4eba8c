"""Removing a WordPress user (a rogue administrator), recoverably: its ``<prefix>users`` row and
every ``<prefix>usermeta`` row are stored first (as JSON, among the database-object backups),
then deleted in one transaction; ``csm db restore-object ID`` puts them back, same ID."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pymysql

from csm import mysql
from csm.accounts.model import WordPressSite
from csm.accounts.service import Accounts
from csm.audit import AuditLog
from csm.clock import Clock
from csm.errors import NotFoundError, RefusedError, ServiceUnavailableError
from csm.identifiers import quote_sql_identifier as quote
from csm.response import repo
from csm.response.repo import ObjectBackup
from csm.store.db import Store

KIND = "wp_user"
QUOTED = re.compile(r"`[A-Za-z0-9_$]+`")  # a table name as _tables() quoted it


@dataclass
class WordPressUsers:
    accounts: Accounts
    store: Store
    audit: AuditLog
    clock: Clock
    database: Callable[[], mysql.Credentials]
    timeout: float = 10.0

    def remove(
        self, account: str, schema: str, login: str, *, who: str, preview: bool = False
    ) -> ObjectBackup:
        """Keep the user's rows, then delete them; ``preview``: only show what would be kept."""
        owner = self.accounts.get(account)
        site = next((s for s in owner.sites if s.db_name == schema), None)
        if site is None:
            raise NotFoundError(f"{schema} is not a WordPress database of {owner.user}")
        users, meta = _tables(site)
        conn = mysql.connect(self.database(), self.timeout, database=schema)
        try:
            kept = _rows(conn, users, meta, login)
            backup = ObjectBackup(
                "dbo_" + secrets.token_hex(6),
                owner.user,
                schema,
                KIND,
                login,
                json.dumps(kept, default=str, sort_keys=True),
                None if preview else self.clock.now(),
            )
            if preview:
                return backup
            with self.store.transaction() as txn:
                repo.add_object_backup(txn, backup, who)
            with conn.cursor() as cursor:
                cursor.execute(f"DELETE FROM {meta} WHERE user_id = %s", (kept["user"]["ID"],))  # noqa: S608
                cursor.execute(f"DELETE FROM {users} WHERE ID = %s", (kept["user"]["ID"],))  # noqa: S608
            conn.commit()
        except pymysql.MySQLError as exc:
            raise ServiceUnavailableError(
                f"{schema}: {exc.args[-1] if exc.args else exc}"
            ) from None
        finally:
            conn.close()
        what = {"account": owner.user, "schema": schema, "login": login}
        self.audit.record(who, "db.remove_wp_user", backup.id, what)
        return backup


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
