"""Rotation on the simulated host, verified by logging in: through cPanel's APIs (stand-ins in
tests/cpanel), and without cPanel (files and the database directly); failures leave things
as they were and say so."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pymysql
import pytest

from csm import passwords
from csm.drill import standins
from csm.drill.build import DrillHost
from csm.drill.databases import site_users
from csm.drill.plan import Account, Site
from tests.conftest import MARIADB, dropin

STANDINS = standins.DIRECTORY


@pytest.fixture
def host(drill_db: DrillHost) -> DrillHost:
    """A simulated host with its WordPress databases."""
    return drill_db


def wordpress_site(account: Account) -> Site:
    return next(s for s in account.sites if s.wordpress)


def can_login(user: str, password: str, database: str) -> bool:
    settings = {**MARIADB, "user": user, "password": password, "database": database}
    try:
        pymysql.connect(**settings).close()
    except pymysql.MySQLError:
        return False
    return True


def wp_row(site: Site, login: str) -> tuple[str, int]:
    conn = pymysql.connect(**MARIADB, database=site.db_name)
    with conn.cursor() as cursor:
        cursor.execute("SELECT ID, user_pass FROM wp_users WHERE user_login = %s", (login,))
        user_id, hashed = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM wp_usermeta WHERE user_id = %s AND meta_key = 'session_tokens'",
            (user_id,),
        )
        sessions = cursor.fetchone()[0]
    conn.close()
    return str(hashed), int(sessions)


def shadow_hash(drill: DrillHost, account: Account, address: str) -> str:
    local, _, domain = address.partition("@")
    shadow = drill.root / f"home/{account.user}/etc/{domain}/shadow"
    return next(
        line.split(":")[1]
        for line in shadow.read_text().splitlines()
        if line.startswith(local + ":")
    )


def secrets_of(path: Path) -> dict[str, str]:
    """``item<TAB>password`` lines; ``#`` lines say which were not set."""
    lines = path.read_text().splitlines()
    return dict(line.split("\t") for line in lines if not line.startswith("#"))


def test_rotation_through_cpanel_changes_every_credential(
    cli: Any, host: DrillHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSM_STANDIN_ROOT", str(host.root))
    bins = f"  uapi_bin: {STANDINS / 'uapi'}\n  whmapi1_bin: {STANDINS / 'whmapi1'}\n"
    dropin(host, "50-standins.yaml", f"cpanel:\n{bins}")
    account = host.accounts[2]
    site = wordpress_site(account)
    old_admin = wp_row(site, "admin")
    assert old_admin[1] == 1 and can_login(site.db_user, site.db_password, site.db_name)
    out = tmp_path / "new-secrets.tsv"
    result = cli("creds", "rotate", account.user, "--all", "--secrets-out", str(out), "--json")
    assert result.code == 0, result.out + result.err
    new = secrets_of(out)
    assert "<redacted>" in result.out
    assert all(password not in result.out for password in new.values())
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    box = account.mailboxes[0].address
    assert passwords.sha512_check(new[f"mailbox:{box}"], shadow_hash(host, account, box))
    mysql_password = new[f"mysql:{site.db_user}"]
    assert can_login(site.db_user, mysql_password, site.db_name)
    assert not can_login(site.db_user, site.db_password, site.db_name)
    config = (host.root / f"home/{account.user}/{site.docroot}/wp-config.php").read_text()
    assert mysql_password.replace("\\", "\\\\").replace("'", "\\'") in config
    hashed, sessions = wp_row(site, "admin")
    assert passwords.wordpress_check(new[f"wordpress:{site.docroot}:admin"], hashed)
    assert sessions == 0 and hashed != old_admin[0]
    recorded = json.loads((host.root / "var/cpanel/standin/passwd.json").read_text())
    assert passwords.sha512_check(new[f"cpanel:{account.user}"], recorded[account.user])
    plan = cli("creds", "plan", account.user, "--json").json()
    assert {i["state"] for i in plan["items"]} == {"rotated"}
    audit = (host.root / "var/log/csm/audit.jsonl").read_text()
    assert all(password not in audit for password in new.values())


def test_rotation_without_cpanel_uses_the_files_and_the_database(cli: Any, host: DrillHost) -> None:
    dropin(host, "50-plain.yaml", "hosting:\n  panel: plain\n")
    account = host.accounts[1]
    site = wordpress_site(account)
    result = cli("creds", "rotate", account.user, "--all", "--show-secrets", "--json")
    assert result.code == 0, result.out + result.err
    new = {o["item"]: o["secret"] for o in result.json()["outcomes"] if o["ok"]}
    for box in account.mailboxes:
        assert passwords.sha512_check(new[f"mailbox:{box.address}"],
                                      shadow_hash(host, account, box.address))  # fmt: skip
    assert can_login(site.db_user, new[f"mysql:{site.db_user}"], site.db_name)
    editor = f"{account.user}-editor"
    hashed, sessions = wp_row(site, editor)
    assert passwords.wordpress_check(new[f"wordpress:{site.docroot}:{editor}"], hashed)
    assert sessions == 0
    assert not any(i.startswith(("cpanel:", "ftp:")) for i in new)


def test_an_unreachable_database_fails_those_items_only(cli: Any, host: DrillHost) -> None:
    dropin(host, "50-plain.yaml", "hosting:\n  panel: plain\n")
    account = host.accounts[0]
    site = wordpress_site(account)
    users = site_users(account, site)
    before = {box.address: shadow_hash(host, account, box.address) for box in account.mailboxes}
    mycnf = host.root / "root/.my.cnf"
    wanted = [f"mailbox:{b.address}" for b in account.mailboxes]
    wanted += [f"mysql:{site.db_user}"]
    mycnf.write_text(mycnf.read_text().replace("port=3306", "port=1"))
    result = cli("creds", "rotate", account.user, *wanted, "--show-secrets", "--json")
    assert result.code == 1
    outcomes = {o["item"]: o for o in result.json()["outcomes"]}
    assert not outcomes[f"mysql:{site.db_user}"]["ok"]
    assert "MariaDB" in outcomes[f"mysql:{site.db_user}"]["detail"]
    assert all(outcomes[f"mailbox:{b}"]["ok"] for b in before)
    assert all(shadow_hash(host, account, b) != h for b, h in before.items())
    assert can_login(site.db_user, site.db_password, site.db_name)  # untouched
    assert users  # the site's users are known to the simulation
    status = cli("creds", "status", account.user, "--json").json()
    states = {i["id"]: i["state"] for i in status["plan"]["items"]}
    assert states[f"mysql:{site.db_user}"] == "pending"
    assert all(states[f"mailbox:{b}"] == "rotated" for b in before)


def test_a_malformed_shadow_file_is_left_intact(cli: Any, drill: DrillHost) -> None:
    dropin(drill, "50-plain.yaml", "hosting:\n  panel: plain\n")
    account = drill.accounts[0]
    box = account.mailboxes[0]
    shadow = drill.root / f"home/{account.user}/etc/{box.domain}/shadow"
    shadow.write_text(shadow.read_text() + shadow.read_text())  # every line twice
    before = shadow.read_bytes()
    result = cli(
        "creds", "rotate", account.user, f"mailbox:{box.address}", "--show-secrets", "--json"
    )
    assert result.code == 1
    (outcome,) = result.json()["outcomes"]
    assert not outcome["ok"] and "nothing was changed" in outcome["detail"]
    assert shadow.read_bytes() == before
    assert not [p for p in os.listdir(shadow.parent) if ".csm-" in p]


def test_unknown_items_and_accounts_are_clear(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[0].user
    assert cli("creds", "rotate", user, "mailbox:nobody@nowhere.test").code == 1
    assert cli("creds", "rotate", "ghost", "--all").code == 1
    assert cli("creds", "rotate", user).code == 2


def test_a_cpanel_error_reply_is_surfaced(
    cli: Any, host: DrillHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSM_STANDIN_ROOT", str(host.root))
    bins = f"  uapi_bin: {STANDINS / 'uapi'}\n  whmapi1_bin: {STANDINS / 'whmapi1'}\n"
    dropin(host, "50-standins.yaml", f"cpanel:\n{bins}")
    account = host.accounts[0]
    site = wordpress_site(account)
    (host.root / f"var/cpanel/databases/{account.user}.json").write_text('{"MYSQL": {}}')
    result = cli(
        "creds", "rotate", account.user, f"mysql:{site.db_user}", "--show-secrets", "--json"
    )
    assert result.code == 1
    (outcome,) = result.json()["outcomes"]
    assert not outcome["ok"] and "Mysql::set_password" in outcome["detail"]
    assert can_login(site.db_user, site.db_password, site.db_name)


def test_accounts_show_cross_checks_the_files_with_cpanel(
    cli: Any, drill: DrillHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cPanel's view (a copy of the tree with one mailbox more) against the files."""
    panel = tmp_path / "panel-view"
    shutil.copytree(drill.root, panel, symlinks=True)
    account = drill.accounts[0]
    passwd = panel / f"home/{account.user}/etc/{account.domain}/passwd"
    passwd.write_text(passwd.read_text() + f"ghost:x:1:1::/home/{account.user}/mail/g:/h\n")
    monkeypatch.setenv("CSM_STANDIN_ROOT", str(panel))
    bins = f"  uapi_bin: {STANDINS / 'uapi'}\n  whmapi1_bin: {STANDINS / 'whmapi1'}\n"
    dropin(drill, "50-standins.yaml", f"cpanel:\n{bins}")
    shown = cli("accounts", "show", account.user, "--json").json()["cpanel_api"]
    assert len(shown["checked"]) == 4 and not shown["notes"]
    (gap,) = shown["disagreements"]
    assert (gap["what"], gap["only_api"], gap["only_files"]) == (
        "mailboxes",
        [f"ghost@{account.domain}"],
        [],
    )
    items = [i["id"] for i in cli("creds", "plan", account.user, "--json").json()["items"]]
    assert f"mailbox:ghost@{account.domain}" in items  # the APIs are the inventory
