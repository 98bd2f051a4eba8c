"""A ``wp-config.php`` is the customer's file: a database (or database user) it names is acted
on only when the account owns it (cPanel's database map, else its prefix).  A planted config
naming another tenant's database is reported and never acted on, by any command."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pymysql
import pytest

from csm.accounts.ownership import DatabaseOwners, prefix
from csm.drill.build import DrillHost
from csm.drill.plan import Account, Site
from csm.host import Host
from tests.conftest import MARIADB, dropin
from tests.credentials.test_rotate import wordpress_site

PLANTED = "evil"  # the directory of the planted site in the attacker's home


@pytest.fixture
def host(drill_db: DrillHost) -> DrillHost:
    return drill_db


def plant(drill: DrillHost, attacker: Account, db_name: str, db_user: str = "") -> Path:
    """The attack: a wp-config.php in the attacker's own home naming another tenant's names."""
    config = drill.root / f"home/{attacker.user}/public_html/{PLANTED}/wp-config.php"
    config.parent.mkdir(parents=True, exist_ok=True)
    user = db_user or f"{attacker.user[:8]}_x"
    config.write_text(
        f"<?php\ndefine('DB_NAME', '{db_name}');\ndefine('DB_USER', '{user}');\n"
        "define('DB_PASSWORD', 'x');\ndefine('AUTH_KEY', 'k');\n$table_prefix = 'wp_';\n"
    )
    return config


def admin_hash(site: Site) -> str:
    conn = pymysql.connect(**MARIADB, database=site.db_name)
    with conn.cursor() as cursor:
        cursor.execute("SELECT user_pass FROM wp_users WHERE user_login = 'admin'")
        (hashed,) = cursor.fetchone()
    conn.close()
    return str(hashed)


def pair(drill: DrillHost) -> tuple[Account, Account, Site]:
    """An attacker, and a victim tenant with a WordPress site."""
    victim = next(a for a in drill.accounts if any(s.wordpress for s in a.sites))
    attacker = next(a for a in drill.accounts if a.user != victim.user)
    return attacker, victim, wordpress_site(victim)


# -- the rules ---------------------------------------------------------------------------------


def owners_on(tmp_path: Path, users: list[str], maps: dict[str, Any]) -> DatabaseOwners:
    host = Host(tmp_path)
    for user, data in maps.items():
        path = tmp_path / f"var/cpanel/databases/{user}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    return DatabaseOwners(host, lambda: users)


def test_the_map_decides_first_then_the_prefix(tmp_path: Path) -> None:
    owners = owners_on(
        tmp_path,
        ["alice", "bob"],
        {"bob": {"MYSQL": {"dbs": {"legacy": "bob"}, "dbusers": {"bob_u": {}}}}},
    )
    assert owners.owns("bob", "legacy", "schema").account == "bob"
    assert owners.owns("alice", "legacy", "schema").account == "bob"
    assert owners.owns("alice", "alice_wp1", "schema").account == "alice"
    assert owners.owns("alice", "bob_wp1", "schema").account == "bob"
    assert owners.owns("alice", "bob_u", "user").account == "bob"
    assert owners.owns("alice", "nobodys", "schema").account == ""


def test_system_schemas_and_shared_prefixes_are_nobody_s(tmp_path: Path) -> None:
    owners = owners_on(tmp_path, ["longname1", "longname2", "mysql"], {})
    assert prefix("longname1") == "longname_"
    shared = owners.owns("longname1", "longname_wp", "schema")
    assert shared.account == "" and "several" in shared.how
    for schema in ("mysql", "information_schema", "performance_schema", "sys", "MySQL"):
        assert owners.owns("mysql", schema, "schema").account == ""


def test_the_configured_names_count_as_a_map(tmp_path: Path) -> None:
    host = Host(tmp_path)
    owners = DatabaseOwners(host, lambda: ["web1", "web2"], {"web1": ["shopdb"]})
    assert owners.owns("web1", "shopdb", "schema").account == "web1"
    assert owners.owns("web2", "shopdb", "schema").account == "web1"


# -- the attack, command by command ------------------------------------------------------------


@pytest.mark.mariadb
def test_creds_never_list_or_rotate_another_tenant_s_admins(cli: Any, host: DrillHost) -> None:
    dropin(host, "50-plain.yaml", "hosting:\n  panel: plain\n")
    attacker, victim, site = pair(host)
    plant(host, attacker, site.db_name, site.db_user)
    before = admin_hash(site)
    plan = cli("creds", "plan", attacker.user, "--json").json()
    ids = [i["id"] for i in plan["items"]]
    assert not [i for i in ids if i.startswith(f"wordpress:public_html/{PLANTED}:")]
    assert f"mysql:{site.db_user}" not in ids
    assert any(site.db_name in note and victim.user in note for note in plan["notes"])
    refused = cli("creds", "rotate", attacker.user, f"wordpress:public_html/{PLANTED}:admin")
    assert refused.code == 1
    rotated = cli("creds", "rotate", attacker.user, "--all", "--show-secrets", "--json")
    assert rotated.code in (0, 1), rotated.err
    assert not any(site.db_name in json.dumps(o) for o in rotated.json()["outcomes"])
    assert admin_hash(site) == before


@pytest.mark.mariadb
def test_a_scan_reports_the_reference_and_skips_the_schema(cli: Any, host: DrillHost) -> None:
    attacker, victim, site = pair(host)
    config = plant(host, attacker, site.db_name)
    scan = cli("scan", attacker.user, "--json").json()
    assert site.db_name not in scan["schemas"]
    (found,) = [f for f in scan["findings"] if f["check"] == "db_foreign_reference"]
    assert found["severity"] == "HIGH" and found["details"]["owner"] == victim.user
    assert found["path"] == "/" + str(config.relative_to(host.root))
    assert not scan["clean"]
    objects = cli("db", "objects", attacker.user, "--json").json()["items"]
    assert all(o["schema"] != site.db_name for o in objects)
    shown = cli("accounts", "show", attacker.user, "--json").json()
    assert site.db_name not in shown["account"]["databases"]
    assert [f["name"] for f in shown["account"]["foreign"]] == [site.db_name]


@pytest.mark.mariadb
def test_a_snapshot_records_a_foreign_schema_and_captures_nothing_of_it(
    cli: Any, host: DrillHost, tmp_path: Path
) -> None:
    attacker, victim, site = pair(host)
    plant(host, attacker, site.db_name)
    out = tmp_path / "evidence" / f"{attacker.user}.tar.gz"
    out.parent.mkdir()
    done = cli("forensic-snapshot", attacker.user, "--out", str(out))
    assert done.code == 0, done.err
    with tarfile.open(out, "r:gz") as tar:
        names = tar.getnames()
        manifest = tar.extractfile("manifest.txt").read().decode()  # type: ignore[union-attr]
        errors = [
            tar.extractfile(n).read().decode()  # type: ignore[union-attr]
            for n in names
            if n.startswith("schema/invalid-target-")
        ]
    assert not [n for n in names if n.startswith(f"schema/{site.db_name}-")]
    assert re.search(rf'^invalid_target=\d+ schema="{site.db_name}"', manifest, re.M)
    assert any("foreign-schema" in e and victim.user in e for e in errors)


@pytest.mark.mariadb
def test_the_account_s_own_sites_are_still_acted_on(cli: Any, host: DrillHost) -> None:
    _, victim, site = pair(host)
    plan = cli("creds", "plan", victim.user, "--json").json()
    ids = {i["id"] for i in plan["items"]}
    assert f"wordpress:{site.docroot}:admin" in ids and f"mysql:{site.db_user}" in ids
    assert site.db_name in cli("scan", victim.user, "--json").json()["schemas"]
