"""WordPress administrators in a site's database: listed for the plan, and rotated by writing
a new password hash WordPress accepts (6.8's ``$wp$`` bcrypt, see :mod:`csm.passwords`) and
ending every session (``session_tokens`` removed)."""

from __future__ import annotations

import pymysql

from csm import identifiers, mysql, passwords
from csm.accounts.model import WordPressSite
from csm.errors import ServiceUnavailableError

ADMINS = (
    "SELECT u.user_login FROM {users} u JOIN {meta} m ON m.user_id = u.ID"
    " WHERE m.meta_key = %s AND m.meta_value LIKE %s ORDER BY u.ID"
)


def admins(creds: mysql.Credentials, site: WordPressSite, timeout: float) -> list[str]:
    """The logins with the administrator role; ServiceUnavailableError when the database
    cannot be read."""
    users, meta = _tables(site)
    conn = mysql.connect(creds, timeout, database=site.db_name)
    try:
        with conn.cursor() as cursor:
            sql = ADMINS.format(users=users, meta=meta)
            cursor.execute(sql, (f"{site.table_prefix}capabilities", '%"administrator"%'))
            return [str(row[0]) for row in cursor.fetchall()]
    except pymysql.MySQLError as exc:
        raise ServiceUnavailableError(f"{site.db_name}: {exc}") from None
    finally:
        conn.close()


def set_password(
    creds: mysql.Credentials, site: WordPressSite, login: str, password: str, timeout: float
) -> int:
    """Write a new hash for ``login`` and end its sessions; the number of rows changed."""
    users, meta = _tables(site)
    conn = mysql.connect(creds, timeout, database=site.db_name)
    try:
        with conn.cursor() as cursor:
            changed = cursor.execute(
                f"UPDATE {users} SET user_pass = %s WHERE user_login = %s",  # noqa: S608 - quoted identifiers
                (passwords.wordpress(password), login),
            )
            cursor.execute(
                f"DELETE m FROM {meta} m JOIN {users} u ON u.ID = m.user_id"
                " WHERE u.user_login = %s AND m.meta_key = 'session_tokens'",
                (login,),
            )
        conn.commit()
        return int(changed)
    except pymysql.MySQLError as exc:
        conn.rollback()
        message = str(exc).replace(password, "<redacted>")
        raise ServiceUnavailableError(f"{site.db_name}: {message}") from None
    finally:
        conn.close()


def _tables(site: WordPressSite) -> tuple[str, str]:
    prefix = site.table_prefix
    return (
        identifiers.quote_sql_identifier(f"{prefix}users"),
        identifiers.quote_sql_identifier(f"{prefix}usermeta"),
    )
