"""``csm doctor`` on a simulated host with the real Exim and MariaDB, and broken on purpose."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from csm.drill.build import DrillHost
from tests.conftest import dropin

pytestmark = [pytest.mark.exim, pytest.mark.mariadb]


def checks(result: Any) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result.json()["checks"]}


def test_a_healthy_drill_host_without_a_daemon_is_ok(cli: Any, drill: DrillHost) -> None:
    result = cli("doctor", "--json")
    assert result.code == 0
    report = result.json()
    assert report["overall_status"] == "ok"
    by_name = checks(result)
    assert [n for n, c in by_name.items() if c["status"] != "ok"] == []
    assert by_name["MTA reachable"]["message"] == "exim -bpc: 0 queued"
    assert "MariaDB" in by_name["MariaDB reachable"]["message"]
    # not running is not a failure: every command works alone; the message says how to start it
    assert "csm install" in by_name["daemon reachable"]["message"]
    assert not by_name["daemon reachable"].get("fix")


def test_human_form_has_one_line_per_check_and_the_overall(cli: Any, drill: DrillHost) -> None:
    result = cli("doctor")
    lines = result.out.splitlines()
    assert lines[0] == "=== csm doctor ==="
    assert "[OK]   config valid" in lines
    assert "[OK]   daemon reachable" in lines
    assert lines[-1] == "Overall: OK"


def test_missing_config_is_a_json_failure_with_a_fix(cli: Any, tmp_path: Path) -> None:
    result = cli("--config", str(tmp_path / "absent.yaml"), "doctor", "--json")
    assert result.code == 1
    report = result.json()
    assert report["overall_status"] == "fail"
    assert report["checks"][0]["name"] == "config valid"
    assert report["checks"][0]["fix"]


def test_a_broken_config_lists_each_bad_key(cli: Any, drill: DrillHost) -> None:
    dropin(drill, "90-typo.yaml", "mail:\n  exim_binn: /usr/sbin/exim\n")
    result = cli("doctor", "--json")
    assert result.code == 1
    row = checks(result)["config: mail.exim_binn"]
    assert row["status"] == "fail"
    assert "90-typo.yaml" in row["message"]


def test_exim_absent_fails_with_an_install_fix(cli: Any, drill: DrillHost) -> None:
    dropin(drill, "90-exim.yaml", "mail:\n  exim_bin: /nonexistent/exim\n")
    result = cli("doctor", "--json")
    assert result.code == 1
    mta = checks(result)["MTA reachable"]
    assert mta["status"] == "fail"
    assert "apt-get install exim4-daemon-light" in mta["fix"]


def test_an_exim_that_errors_fails_with_its_message(cli: Any, drill: DrillHost) -> None:
    dropin(drill, "90-exim.yaml", "mail:\n  exim_config: /etc/exim4/missing.conf\n")
    mta = checks(cli("doctor", "--json"))["MTA reachable"]
    assert mta["status"] == "fail"
    assert "exited with status" in mta["message"]


def test_unreachable_mariadb_fails(cli: Any, drill: DrillHost, free_port: int) -> None:
    dropin(
        drill,
        "90-db.yaml",
        f"mysql:\n  host: 127.0.0.1\n  port: {free_port}\n  connect_timeout: 2\n",
    )
    result = cli("doctor", "--json")
    assert result.code == 1
    db = checks(result)["MariaDB reachable"]
    assert db["status"] == "fail"
    assert str(free_port) in db["message"]
    assert "systemctl start mariadb" in db["fix"]


def test_wrong_mariadb_password_fails(cli: Any, drill: DrillHost) -> None:
    dropin(drill, "90-db.yaml", "mysql:\n  user: csm_no_such_user\n  password: nope\n")
    db = checks(cli("doctor", "--json"))["MariaDB reachable"]
    assert db["status"] == "fail"
    assert "csm_no_such_user" in db["message"]


def test_an_unreadable_store_fails_and_points_at_restore(cli: Any, drill: DrillHost) -> None:
    (drill.root / "var/lib/csm/state/csm.db").write_bytes(b"\x00garbage" * 512)
    result = cli("doctor", "--json")
    assert result.code == 1
    store = checks(result)["state store healthy"]
    assert store["status"] == "fail"
    assert "csm restore" in store["fix"]


def test_a_missing_store_points_at_migrate(cli: Any, drill: DrillHost) -> None:
    (drill.root / "var/lib/csm/state/csm.db").unlink()
    store = checks(cli("doctor", "--json"))["state store healthy"]
    assert (store["status"], store["fix"]) == ("fail", "run `csm store migrate` to create it")


def test_loose_state_dir_permissions_fail_with_chmod(cli: Any, drill: DrillHost) -> None:
    state = drill.root / "var/lib/csm/state"
    os.chmod(state, 0o755)
    row = checks(cli("doctor", "--json"))["state dir permissions"]
    assert row["status"] == "fail"
    assert row["fix"] == f"chmod 700 {state}"


def test_a_plain_host_warns_about_the_panel(cli: Any, drill: DrillHost) -> None:
    for marker in ("usr/local/cpanel/version", "etc/trueuserdomains"):
        (drill.root / marker).unlink()
    (drill.root / "var/cpanel/users").rename(drill.root / "var/cpanel/users.moved")
    row = checks(cli("doctor", "--json"))["hosting panel detected"]
    assert (row["status"], row["message"]) == ("warn", "no cPanel layout found")


def test_a_listening_control_socket_counts_as_a_reachable_daemon(
    cli: Any, drill: DrillHost, unix_server: Any
) -> None:
    dropin(drill, "90-sock.yaml", "paths:\n  control_socket: /run/csm.sock\n")
    with unix_server(drill.root / "run/csm.sock", None):
        row = checks(cli("doctor", "--json"))["daemon reachable"]
    assert row["status"] == "ok"


def test_a_check_that_cannot_run_is_a_failed_row_not_a_crash(cli: Any, drill: DrillHost) -> None:
    (drill.root / "root/.my.cnf").write_text("[client]\nuser=root\nport=not-a-port\n")
    result = cli("doctor", "--json")
    assert result.code == 1
    row = checks(result)["MariaDB reachable"]
    assert row["status"] == "fail"
    assert "invalid port 'not-a-port'" in row["message"]
    assert "port=" in row["fix"]
