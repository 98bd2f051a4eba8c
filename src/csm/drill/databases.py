"""The simulated host's WordPress databases, created in the real MariaDB as cPanel would name
them (``<user>_wpNNN``, database user of the same name): ``wp_users``, ``wp_usermeta`` and
``wp_options`` with administrators whose passwords have real WordPress hashes (one legacy
phpass, the others WordPress 6.8 ``$wp$`` bcrypt) and open sessions (``session_tokens``)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import pymysql
from passlib.hash import phpass

from csm import identifiers, mysql, passwords
from csm.drill.plan import Account, Site
from csm.errors import CsmError

HOSTS = ("localhost", "127.0.0.1")  # cPanel's localhost, and TCP from this machine
SCHEMA = (
    """CREATE TABLE wp_users (ID BIGINT UNSIGNED PRIMARY KEY AUTO_INCREMENT,
    user_login VARCHAR(60) NOT NULL, user_pass VARCHAR(255) NOT NULL,
    user_nicename VARCHAR(50) NOT NULL DEFAULT '', user_email VARCHAR(100) NOT NULL DEFAULT '',
    user_url VARCHAR(100) NOT NULL DEFAULT '', user_registered DATETIME NOT NULL,
    user_activation_key VARCHAR(255) NOT NULL DEFAULT '', user_status INT NOT NULL DEFAULT 0,
    display_name VARCHAR(250) NOT NULL DEFAULT '')""",
    """CREATE TABLE wp_usermeta (umeta_id BIGINT UNSIGNED PRIMARY KEY AUTO_INCREMENT,
    user_id BIGINT UNSIGNED NOT NULL, meta_key VARCHAR(255), meta_value LONGTEXT)""",
    """CREATE TABLE wp_options (option_id BIGINT UNSIGNED PRIMARY KEY AUTO_INCREMENT,
    option_name VARCHAR(191) NOT NULL UNIQUE, option_value LONGTEXT NOT NULL,
    autoload VARCHAR(20) NOT NULL DEFAULT 'yes')""",
)
ADMIN_CAPS = 'a:1:{s:13:"administrator";b:1;}'
AUTHOR_CAPS = 'a:1:{s:6:"author";b:1;}'
SESSIONS = 'a:1:{s:64:"%s";a:1:{s:10:"expiration";i:1893456000;}}'


@dataclass(frozen=True, slots=True)
class SiteUser:
    login: str
    password: str  # the simulation's own, so tests can log in before and after rotation
    admin: bool


def site_users(account: Account, site: Site) -> list[SiteUser]:
    """The site's users, deterministic for the site: two administrators and an author."""
    rng = random.Random(f"{account.user}:{site.db_name}")  # noqa: S311 - a simulation
    logins = (("admin", True), (f"{account.user}-editor", True), ("writer", False))
    return [SiteUser(login, _secret(rng), admin) for login, admin in logins]


def _secret(rng: random.Random) -> str:
    return "".join(rng.choices("abcdefghkmnpqrstuvwxyz23456789", k=16))


def create(creds: mysql.Credentials, accounts: Sequence[Account], timeout: float) -> list[str]:
    """Create (or re-create) every WordPress site's database and user; the schemas made.  The
    second account's first site is compromised: a trigger that makes anyone whose display
    name carries a magic token an administrator (or the next account's, when that one has no
    WordPress site).
    Raises ServiceUnavailableError when MariaDB cannot be reached."""
    conn = mysql.connect(creds, timeout)
    made = []
    try:
        with conn.cursor() as cursor:
            for account in accounts:
                for site in (s for s in account.sites if s.wordpress):
                    _site(cursor, account, site)
                    made.append(site.db_name)
            victim = next(
                (a for a in (*accounts[1:], *accounts[:1]) if any(s.wordpress for s in a.sites)),
                None,
            )
            if victim is not None:
                _compromise(cursor, victim)
        conn.commit()
    except pymysql.MySQLError as exc:
        raise CsmError(f"creating the drill's WordPress databases: {exc}") from None
    finally:
        conn.close()
    return made


def _site(cursor: pymysql.cursors.Cursor, account: Account, site: Site) -> None:
    db = identifiers.quote_sql_identifier(site.db_name)
    user = identifiers.quote_sql_identifier(site.db_user).strip("`")
    cursor.execute(f"DROP DATABASE IF EXISTS {db}")
    cursor.execute(f"CREATE DATABASE {db} CHARACTER SET utf8mb4")
    for host in HOSTS:
        cursor.execute("DROP USER IF EXISTS %s@%s", (user, host))
        cursor.execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, site.db_password))
        cursor.execute(f"GRANT ALL PRIVILEGES ON {db}.* TO %s@%s", (user, host))
    cursor.execute(f"USE {db}")
    for statement in SCHEMA:
        cursor.execute(statement)
    options = (("siteurl", f"https://{site.domain}"), ("home", f"https://{site.domain}"))
    cursor.executemany(
        "INSERT INTO wp_options (option_name, option_value) VALUES (%s, %s)", options
    )
    for number, person in enumerate(site_users(account, site), start=1):
        _user(cursor, number, person, site)


def _user(cursor: pymysql.cursors.Cursor, number: int, person: SiteUser, site: Site) -> None:
    hashed = phpass.hash(person.password) if number == 1 else passwords.wordpress(person.password)
    cursor.execute(
        "INSERT INTO wp_users (ID, user_login, user_pass, user_email, user_registered,"
        " display_name) VALUES (%s, %s, %s, %s, '2025-03-01 10:00:00', %s)",
        (number, person.login, hashed, f"{person.login}@{site.domain}", person.login),
    )
    meta = [
        (number, "wp_capabilities", ADMIN_CAPS if person.admin else AUTHOR_CAPS),
        (number, "session_tokens", SESSIONS.replace("%s", f"{number:064d}")),
    ]
    cursor.executemany(
        "INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (%s, %s, %s)", meta
    )


MAGIC_TOKEN = "Xk9mQ2vB7pLz"  # noqa: S105 - the sample trigger's token, not a secret
TRIGGER = (  # constants only: the sample is ours
    "CREATE TRIGGER wp_user_sync AFTER INSERT ON wp_users FOR EACH ROW\nBEGIN\n"  # noqa: S608
    f"  IF NEW.display_name LIKE '%{MAGIC_TOKEN}%' THEN\n"
    f"    UPDATE wp_usermeta SET meta_value = '{ADMIN_CAPS}'\n"
    "      WHERE user_id = NEW.ID AND meta_key = 'wp_capabilities';\n  END IF;\nEND"
)


def _compromise(cursor: pymysql.cursors.Cursor, account: Account) -> None:
    """An inert, made-up sample of the runbook's "malicious database trigger"."""
    site = next(s for s in account.sites if s.wordpress)
    cursor.execute(f"USE {identifiers.quote_sql_identifier(site.db_name)}")
    cursor.execute(TRIGGER)
