"""A WordPress schema's administrators and stored login sessions, as the snapshot keeps them:
``schema/<schema>-admins.tsv`` (ID, user_login, user_email, user_registered, display_name of
every user whose ``<prefix>capabilities`` mentions "administrator", by registration) and
``schema/<schema>-sessions.tsv`` (user_id and the raw ``session_tokens`` value).

Queries bind every value; the schema and table names are validated and back-quoted.  One
connection serves every schema of the snapshot (re-opened when a query broke it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pymysql

from csm import identifiers, mysql
from csm.errors import ServiceUnavailableError
from csm.forensic import tsv

TIMEOUT = 30.0
Row = tuple[object, ...]


@dataclass
class Users:
    """The queries of one snapshot, over one lazily opened connection."""

    database: mysql.Login
    timeout: float = TIMEOUT
    _conn: pymysql.Connection | None = field(default=None, repr=False)

    def admins(self, schema: str, prefix: str) -> list[Row]:
        users, meta = _table(schema, prefix, "users"), _table(schema, prefix, "usermeta")
        return self._rows(
            f"SELECT u.ID, u.user_login, u.user_email, u.user_registered, u.display_name"  # noqa: S608
            f" FROM {users} u JOIN {meta} m ON m.user_id = u.ID"
            " WHERE m.meta_key = %s AND m.meta_value LIKE %s"
            " ORDER BY u.user_registered, u.ID",
            (f"{prefix}capabilities", "%administrator%"),
        )

    def sessions(self, schema: str, prefix: str) -> list[Row]:
        meta = _table(schema, prefix, "usermeta")
        return self._rows(
            f"SELECT user_id, meta_value FROM {meta} WHERE meta_key = %s"  # noqa: S608
            " ORDER BY user_id, umeta_id",
            ("session_tokens",),
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _rows(self, sql: str, args: tuple[str, ...]) -> list[Row]:
        conn = self._connection()
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, args)
                return [tuple(row) for row in cursor.fetchall()]
        except pymysql.MySQLError as exc:
            if not conn.open:
                self._conn = None  # a timeout or a lost server: the next query reconnects
            raise ServiceUnavailableError(f"MariaDB: {_reason(exc)}") from None

    def _connection(self) -> pymysql.Connection:
        if self._conn is None:
            self._conn = mysql.connect(self.database(), self.timeout)
        return self._conn


def body(rows: list[Row]) -> bytes:
    """The rows as tab-separated lines (values escaped: :mod:`csm.forensic.tsv`)."""
    return "".join(tsv.record(_plain(row)) for row in rows).encode("utf-8", "surrogatepass")


def _plain(row: Row) -> tuple[object, ...]:
    return tuple(str(value) if hasattr(value, "isoformat") else value for value in row)


def _table(schema: str, prefix: str, name: str) -> str:
    quoted = identifiers.quote_sql_identifier
    return f"{quoted(schema)}.{quoted(prefix + name)}"


def _reason(exc: pymysql.MySQLError) -> str:
    args = exc.args
    if len(args) == 2:
        return f"({args[0]}) {args[1]}"
    return str(exc) or type(exc).__name__
