"""A simulated host with its WordPress databases in the real MariaDB, for the snapshot tests.

Seed 11: its accounts and schemas are none of those seed 1 (the other suites' drill) creates,
so these tests neither disturb nor are disturbed by them; the schemas and their database users
are dropped afterwards.  The second account's site carries the drill's malicious trigger; the
fixture adds a rogue administrator next to it, as the runbook's compromised account has."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pymysql
import pytest

from csm import mysql
from csm.clock import FixedClock, SystemClock
from csm.config.loader import load
from csm.config.model import Config
from csm.drill.build import DrillHost, build
from csm.drill.databases import HOSTS
from csm.drill.plan import Account, Site
from csm.forensic.mail import MailSources
from csm.forensic.snapshot import Forensics
from csm.host import Host
from tests.conftest import MARIADB

SEED = 11
ROGUE = ("svc-sync", "svc-sync@mailinator.com", "Sync Xk9mQ2vB7pLz")
AT = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)  # the drill's mail day is 2026-11-20


@dataclass(frozen=True, slots=True)
class Drilled:
    drill: DrillHost
    config: Config
    victim: Account  # the account with the malicious trigger and the rogue administrator

    @property
    def root(self) -> Path:
        return self.drill.root

    def home(self, account: Account) -> Path:
        return self.root / "home" / account.user

    def forensics(self, clock: FixedClock | None = None, **options: object) -> Forensics:
        host = Host(self.root)
        config = self.config

        def database() -> mysql.Credentials:
            return mysql.credentials(config.mysql, host)

        mail = MailSources.from_config(config.mail, host, [a.user for a in self.drill.accounts])
        return Forensics(host, database, clock or FixedClock(AT), mail, **options)  # type: ignore[arg-type]


def wordpress(account: Account) -> list[Site]:
    return [s for s in account.sites if s.wordpress]


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drilled]:
    drill = build(tmp_path_factory.mktemp("forensic") / "host", SEED, SystemClock(),
                  with_databases=True)  # fmt: skip
    config = load(drill.config_path, drill.config_path.parent / "conf.d", {}).config
    victim = drill.accounts[1]
    _add_rogue_admin(wordpress(victim)[0].db_name)
    try:
        yield Drilled(drill, config, victim)
    finally:
        _drop(drill)


def _add_rogue_admin(schema: str) -> None:
    conn = pymysql.connect(**MARIADB, database=schema, autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wp_users (ID, user_login, user_pass, user_email, user_registered,"
            " display_name) VALUES (99, %s, 'x', %s, '2026-11-20 03:04:05', %s)",
            ROGUE,
        )
        cursor.execute(
            "INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (99,"
            " 'wp_capabilities', 'a:1:{s:13:\"administrator\";b:1;}')"
        )
    conn.close()


def _drop(drill: DrillHost) -> None:
    conn = pymysql.connect(**MARIADB, autocommit=True)
    with conn.cursor() as cursor:
        for site in (s for a in drill.accounts for s in wordpress(a)):
            cursor.execute(f"DROP DATABASE IF EXISTS `{site.db_name}`")
            for host in HOSTS:
                cursor.execute("DROP USER IF EXISTS %s@%s", (site.db_user, host))
    conn.close()
