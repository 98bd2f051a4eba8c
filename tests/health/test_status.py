from __future__ import annotations

from typing import Any

from csm.drill.build import DrillHost
from tests.conftest import backed_up, dropin


def test_status_without_a_daemon_reads_the_store(cli: Any, drill: DrillHost) -> None:
    listed = cli("incidents", "list", "--json").json()["items"]
    by_kind = {i["kind"]: i["id"] for i in listed}
    backed_up(cli, drill)
    cli(
        "incidents",
        "status",
        by_kind["mailbox_bruteforce"],
        "dismissed",
        "--details",
        "our scanner",
    )
    cli("incidents", "status", by_kind["mailbox_takeover"], "contained")
    result = cli("status", "--json")
    assert result.code == 0
    status = result.json()
    assert status["daemon_running"] is False
    assert status["status"] == "down"
    assert status["hostname"] == "server1.drill.test"
    assert status["store_healthy"] is True
    assert status["incidents_open"] == len(listed) - 1
    by_severity = {"critical": 0, "high": 0, "warning": 0}
    for item in listed:
        if item["id"] != by_kind["mailbox_bruteforce"]:
            by_severity[item["severity"].lower()] += 1
    assert status["incidents_open_by_severity"] == by_severity
    assert len(status["config_hash"]) == 64


def test_human_status_says_the_daemon_is_not_running(cli: Any, drill: DrillHost) -> None:
    result = cli("status")
    assert result.code == 0
    assert "daemon:         not running" in result.out.splitlines()


def test_an_unreadable_store_is_reported_not_raised(cli: Any, drill: DrillHost) -> None:
    (drill.root / "var/lib/csm/state/csm.db").write_bytes(b"garbage" * 1000)
    status = cli("status", "--json").json()
    assert status["store_healthy"] is False
    assert status["incidents_open"] is None
    assert "not a database" in status["store_error"]


def test_status_asks_a_running_daemon(cli: Any, drill: DrillHost, unix_server: Any) -> None:
    dropin(drill, "90-sock.yaml", "paths:\n  control_socket: /run/csm.sock\n")
    reply = {
        "ok": True,
        "result": {
            "started_at": "2026-11-22T00:00:00Z",
            "uptime_sec": 60,
            "watchers": {"maillog": True, "exim": False},
        },
    }
    with unix_server(drill.root / "run/csm.sock", reply):
        status = cli("status", "--json").json()
    assert status["daemon_running"] is True
    assert status["uptime_sec"] == 60
    assert status["status"] == "degraded"  # a detached watcher


def test_status_without_config_is_a_json_error(cli: Any) -> None:
    result = cli("status", "--json")
    assert result.code == 4
    assert result.json()["ok"] is False
    assert result.json()["code"] == "config"


def test_a_daemon_that_refuses_status_still_counts_as_running(
    cli: Any, drill: DrillHost, unix_server: Any
) -> None:
    dropin(drill, "90-sock.yaml", "paths:\n  control_socket: /run/csm.sock\n")
    with unix_server(drill.root / "run/csm.sock", {"ok": False, "error": "unknown command"}):
        status = cli("status", "--json").json()
    assert status["daemon_running"] is True
    assert status["uptime_sec"] is None


def test_status_shows_the_latest_scan_without_a_daemon(cli: Any, drill: DrillHost) -> None:
    assert cli("status", "--json").json()["latest_scan"] is None
    account = drill.accounts[0].user
    scanned = cli("scan", account, "--checks", "files", "--json")
    assert scanned.code in (0, 1), scanned.err  # 1: it found something
    latest = cli("status", "--json").json()["latest_scan"]
    assert latest is not None and latest.startswith("20")
