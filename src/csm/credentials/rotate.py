"""Rotating one credential item, by the method that applies on this host.

cPanel hosts: the account password through ``whmapi1 passwd``, mailboxes through ``uapi Email
passwd_pop``, FTP through ``uapi Ftp passwd``, database users through ``uapi Mysql
set_password``.  Without cPanel: mailbox hashes in their shadow or passwd-file, database users
with ``ALTER USER`` on the server.  Everywhere: WordPress administrators in the site's database
(sessions ended), wp-config salts in place.  Application secrets are rotated where they were
issued: CSM lists them and records a deferral or a rotation the operator reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pymysql

from csm import identifiers, mysql
from csm.accounts.model import Account, Mailbox
from csm.clock import Clock
from csm.cpanel import Cpanel
from csm.credentials import files, wordpress
from csm.credentials.model import Item
from csm.credentials.plan import site_name
from csm.errors import (
    InvalidIdentifierError,
    NotFoundError,
    ServiceUnavailableError,
    UsageError,
)
from csm.host import Host


@dataclass(frozen=True, slots=True)
class Rotators:
    """How items rotate on this host: each account's :class:`Rotator`."""

    host: Host
    cpanel: Cpanel | None  # None: not a cPanel host
    database: mysql.Login
    backups: Path  # copies of the files a rotation changes
    clock: Clock
    db_timeout: float = 5.0

    def for_account(self, account: Account) -> Rotator:
        today = self.clock.now().date()
        return Rotator(
            self.host, account, self.cpanel, self.database, self.backups, today, self.db_timeout
        )


@dataclass
class Rotator:
    host: Host
    account: Account
    cpanel: Cpanel | None  # None: not a cPanel host
    database: mysql.Login
    backups: Path
    today: date
    db_timeout: float = 5.0

    def rotate(self, item: Item, password: str) -> str:
        """Give ``item`` the new ``password``; what was done.  Raises a CsmError on failure,
        with nothing changed for that item."""
        handler = {
            "cpanel": self._cpanel_account,
            "ftp": self._ftp,
            "mailbox": self._mailbox,
            "mysql": self._mysql,
            "wordpress": self._wordpress,
            "secret": self._secret,
        }[item.kind]
        return handler(item.id.split(":", 1)[1], password)

    def _cpanel_account(self, user: str, password: str) -> str:
        self._api().whmapi1("passwd", {"user": identifiers.account(user), "password": password})
        return "account password changed (whmapi1 passwd)"

    def _ftp(self, login: str, password: str) -> str:
        args = {"user": _plain(login), "pass": password}
        self._api().uapi(self.account.user, "Ftp", "passwd", args)
        return "FTP password changed (uapi Ftp passwd)"

    def _mailbox(self, address: str, password: str) -> str:
        box = next((m for m in self.account.mailboxes if m.address == address), None)
        if box is None:
            raise NotFoundError(f"{address} is not a mailbox of {self.account.user}")
        local, _, domain = address.rpartition("@")
        if self.cpanel is not None:
            args = {"email": _plain(local), "domain": _plain(domain), "password": password}
            self.cpanel.uapi(self.account.user, "Email", "passwd_pop", args)
            return "mailbox password changed (uapi Email passwd_pop)"
        return self._mailbox_file(box, local, password)

    def _mailbox_file(self, box: Mailbox, local: str, password: str) -> str:
        source = box.source.file
        if source.endswith("/passwd") and "/etc/" in source:  # cPanel-format passwd + shadow
            shadow = source.removesuffix("passwd") + "shadow"
            files.set_shadow_hash(self.host.path(shadow), local, password, self.backups, self.today)
            return f"new SHA-512 crypt hash in {shadow}"
        files.set_passwd_file_hash(self.host.path(source), box.address, password, self.backups)
        return f"new SHA-512 crypt hash in {source}"

    def _mysql(self, user: str, password: str) -> str:
        if user not in self.account.db_users:
            raise NotFoundError(f"{user} is not a database user of {self.account.user}")
        if self.cpanel is not None:
            args = {"user": _plain(user), "password": password}
            self.cpanel.uapi(self.account.user, "Mysql", "set_password", args)
            done = "database password changed (uapi Mysql set_password)"
        else:
            hosts = _alter_user(self.database(), user, password, self.db_timeout)
            done = f"ALTER USER for {hosts} host entr{'y' if hosts == 1 else 'ies'}"
        return done + self._follow_sites(user, password)

    def _follow_sites(self, user: str, password: str) -> str:
        """Each WordPress site of this database user gets the new password in wp-config.php."""
        configs = [s.config for s in self.account.sites if s.db_user == user]
        for config in configs:
            files.set_wp_db_password(self.host.path(config), password, self.backups)
        return f"; DB_PASSWORD updated in {', '.join(configs)}" if configs else ""

    def _wordpress(self, rest: str, password: str) -> str:
        name, _, login = rest.rpartition(":")
        site = next((s for s in self.account.sites if site_name(self.account, s) == name), None)
        if site is None:
            raise NotFoundError(f"no WordPress site {name!r} in {self.account.user}")
        changed = wordpress.set_password(self.database(), site, login, password, self.db_timeout)
        if changed != 1:
            raise NotFoundError(f"no WordPress user {login!r} in {site.db_name}")
        return f"new password hash for {login} in {site.db_name}; its sessions ended"

    def _secret(self, rest: str, password: str) -> str:
        relative, _, kind = rest.rpartition(":")
        if kind != "wp-salts":
            raise UsageError(
                f"{relative}: {kind} is an application key: rotate it where it was issued",
                fix=f'then: csm creds defer {self.account.user} "secret:{rest}" --reason "<what>"',
            )
        config = f"{self.account.home}/{relative}"
        if config not in {s.config for s in self.account.sites}:
            raise NotFoundError(f"{relative} is not a wp-config.php of {self.account.user}")
        count = files.new_wp_salts(self.host.path(config), self.backups)
        return f"{count} salts and keys replaced in {relative} (every login cookie ends)"

    def _api(self) -> Cpanel:
        if self.cpanel is None:
            raise UsageError("this item is rotated through cPanel, and this is not a cPanel host")
        return self.cpanel


def _plain(value: str) -> str:
    """A name for a ``key=value`` API argument: no control characters, spaces or options."""
    if not value or not value.isprintable() or " " in value or value.startswith("-"):
        raise InvalidIdentifierError(f"invalid name for cPanel: {value!r}")
    return value


def _alter_user(creds: mysql.Credentials, user: str, password: str, timeout: float) -> int:
    conn = mysql.connect(creds, timeout)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT Host FROM mysql.user WHERE User = %s", (user,))
            hosts = [str(row[0]) for row in cursor.fetchall()]
            if not hosts:
                raise NotFoundError(f"no database user {user!r} on the server")
            for host in hosts:
                cursor.execute("ALTER USER %s@%s IDENTIFIED BY %s", (user, host, password))
        conn.commit()
        return len(hosts)
    except pymysql.MySQLError as exc:
        message = str(exc).replace(password, "<redacted>")
        raise ServiceUnavailableError(f"changing {user}'s password: {message}") from None
    finally:
        conn.close()
