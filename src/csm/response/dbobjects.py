"""Dropping a malicious database object, recoverably: its ``SHOW CREATE`` (and the session's
``sql_mode``) is stored first, and the drop is refused when that cannot be done; a backup id
re-creates it exactly (``csm db restore-object``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pymysql

from csm import identifiers, mysql
from csm.accounts.service import Accounts
from csm.audit import AuditLog
from csm.clock import Clock
from csm.errors import NotFoundError, RefusedError, ServiceUnavailableError, UsageError
from csm.response import repo, wpusers
from csm.response.repo import ObjectBackup
from csm.store.db import Store

KINDS = ("trigger", "event", "procedure", "function")
# SHOW CREATE … columns: (name, sql_mode, …) and where the statement is.
STATEMENT_COLUMN = {"trigger": 2, "event": 3, "procedure": 2, "function": 2}


@dataclass
class DbObjects:
    accounts: Accounts
    store: Store
    audit: AuditLog
    clock: Clock
    database: mysql.Login
    timeout: float = 10.0

    def drop(
        self, account: str, schema: str, kind: str, name: str, *, who: str, preview: bool = False
    ) -> ObjectBackup:
        owner = self.accounts.get(account)
        if schema not in owner.databases:
            raise NotFoundError(f"{schema} is not a database of {owner.user}")
        if kind not in KINDS:
            raise UsageError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        quote = identifiers.quote_sql_identifier
        quoted = f"{quote(schema)}.{quote(name)}"
        conn = self._connect()
        try:
            definition = _definition(conn, kind, quoted)
            backup = ObjectBackup(
                "dbo_" + secrets.token_hex(6),
                owner.user,
                schema,
                kind,
                name,
                definition,
                None if preview else self.clock.now(),
            )
            if preview:
                return backup
            with self.store.transaction() as txn:
                repo.add_object_backup(txn, backup, who)
            with conn.cursor() as cursor:
                cursor.execute(f"DROP {kind.upper()} {quoted}")
            conn.commit()
        except pymysql.MySQLError as exc:
            raise ServiceUnavailableError(f"{kind} {schema}.{name}: {exc}") from None
        finally:
            conn.close()
        what = {"account": owner.user, "schema": schema, "kind": kind, "name": name}
        self.audit.record(who, "db.drop_object", backup.id, what)
        return backup

    def restore(self, backup_id: str, who: str) -> ObjectBackup:
        backup = repo.object_backup(self.store.conn, backup_id)
        if backup is None:
            raise NotFoundError(f"no dropped object {backup_id!r}")
        if backup.restored_at is not None:
            raise RefusedError(f"{backup_id} was already restored at {backup.restored_at}")
        conn = self._connect()
        try:
            if backup.kind == wpusers.KIND:
                wpusers.restore(conn, backup)
            else:
                _recreate(conn, backup)
            conn.commit()
        except pymysql.MySQLError as exc:
            raise ServiceUnavailableError(f"re-creating {backup.name}: {exc}") from None
        finally:
            conn.close()
        with self.store.transaction() as txn:
            repo.mark_object_restored(txn, backup_id, self.clock.now())
        self.audit.record(who, "db.restore_object", backup_id, {"name": backup.name})
        restored = repo.object_backup(self.store.conn, backup_id)
        assert restored is not None
        return restored

    def remove_user(
        self, account: str, schema: str, login: str, *, who: str, preview: bool = False
    ) -> ObjectBackup:
        """Remove a WordPress user (a rogue administrator) after keeping its rows among the
        same backups (kind ``wp_user``); ``preview``: only show what would be kept."""
        owner = self.accounts.get(account)
        site = next((s for s in owner.sites if s.db_name == schema), None)
        if site is None:
            raise NotFoundError(f"{schema} is not a WordPress database of {owner.user}")
        conn = mysql.connect(self.database(), self.timeout, database=schema)
        try:
            kept = wpusers.keep(conn, site, login)
            backup = ObjectBackup(
                "dbo_" + secrets.token_hex(6),
                owner.user,
                schema,
                wpusers.KIND,
                login,
                kept,
                None if preview else self.clock.now(),
            )
            if preview:
                return backup
            with self.store.transaction() as txn:
                repo.add_object_backup(txn, backup, who)
            wpusers.delete(conn, kept)
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

    def _connect(self) -> pymysql.Connection:
        return mysql.connect(self.database(), self.timeout)


def _recreate(conn: pymysql.Connection, backup: ObjectBackup) -> None:
    sql_mode, _, statement = backup.definition.partition("\n")
    with conn.cursor() as cursor:
        cursor.execute(f"USE {identifiers.quote_sql_identifier(backup.schema)}")
        cursor.execute("SET SESSION sql_mode = %s", (sql_mode,))
        cursor.execute(statement)


# MariaDB's "does not exist" errors: trigger, routine, event, table/view, database.
MISSING = frozenset({1360, 1305, 1539, 1146, 1049})


def _definition(conn: pymysql.Connection, kind: str, quoted: str) -> str:
    """``<sql_mode>\\n<CREATE statement>``; RefusedError when it cannot be read."""
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"SHOW CREATE {kind.upper()} {quoted}")
            row = cursor.fetchone()
    except pymysql.MySQLError as exc:
        code, text = (*exc.args, 0, "")[:2] if exc.args else (0, str(exc))
        if code in MISSING:
            raise NotFoundError(
                f"no {kind} {quoted} on the server: nothing dropped",
                fix="csm db objects <account>   # the objects and their names",
            ) from None
        raise RefusedError(
            f"cannot read the definition of {kind} {quoted} (MariaDB: {text}): not dropped"
        ) from None
    if not row or not row[STATEMENT_COLUMN[kind]]:
        raise RefusedError(f"no definition for {kind} {quoted}: not dropped")
    return f"{row[1]}\n{row[STATEMENT_COLUMN[kind]]}"
