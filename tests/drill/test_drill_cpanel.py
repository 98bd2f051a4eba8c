"""A freshly built drill host carries its own cPanel commands: the runbook's credential and mail
steps work on it with nothing set but ``CSM_CONFIG``; a missing ``uapi`` elsewhere is a clear
error with its fix, and the API cross-check claims agreement only for calls that answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pymysql
import pytest

from csm.clock import SystemClock
from csm.drill.build import DrillHost, build

CSM = str(Path(sys.executable).with_name("csm"))


def csm(host: DrillHost, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command with nothing in its environment but CSM_CONFIG and PATH."""
    env = {"PATH": os.environ["PATH"], "CSM_CONFIG": str(host.config_path)}
    return subprocess.run(
        [CSM, *args], env=env, capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture
def fresh(tmp_path: Path) -> DrillHost:
    return build(tmp_path / "host", 3, SystemClock())


def test_rotation_and_holds_work_on_a_fresh_drill_host(fresh: DrillHost, tmp_path: Path) -> None:
    user = fresh.accounts[0].user
    mailbox = fresh.accounts[0].mailboxes[0].address
    secrets = tmp_path / "secrets.txt"
    items = (f"mailbox:{mailbox}", f"cpanel:{user}")
    rotated = csm(fresh, "creds", "rotate", user, *items, "--secrets-out", str(secrets), "--json")
    assert rotated.returncode == 0, rotated.stderr
    outcomes = json.loads(rotated.stdout)["outcomes"]
    assert [o["ok"] for o in outcomes] == [True, True]
    assert {o["method"] for o in outcomes} == {"uapi", "whmapi1"}
    assert secrets.read_text().count("\n") >= 2
    held = csm(fresh, "mail", "hold", user, "--json")
    assert held.returncode == 0, held.stderr
    released = csm(fresh, "mail", "release", user, "--json")
    assert released.returncode == 0, released.stderr
    shown = csm(fresh, "accounts", "show", user)
    assert "agree (4 calls answered)" in shown.stdout, shown.stdout


def without_uapi(host: DrillHost) -> None:
    for tool in ("uapi", "whmapi1"):
        (host.root / "usr/local/cpanel/bin" / tool).unlink()


def test_a_missing_uapi_is_a_clear_error_with_its_fix(fresh: DrillHost, tmp_path: Path) -> None:
    without_uapi(fresh)
    user = fresh.accounts[0].user
    mailbox = fresh.accounts[0].mailboxes[0].address
    out = tmp_path / "secrets.txt"
    dry = csm(fresh, "creds", "rotate", user, f"mailbox:{mailbox}", "--dry-run", "--json")
    [item] = json.loads(dry.stdout)["outcomes"]
    assert not item["ok"] and "would fail: uapi is not at" in item["detail"]
    done = csm(fresh, "creds", "rotate", user, f"mailbox:{mailbox}", "--secrets-out", str(out))
    assert done.returncode != 0
    assert "uapi is not at" in done.stdout + done.stderr
    held = csm(fresh, "mail", "hold", user)
    assert held.returncode == 6
    assert "whmapi1 is not at" in held.stderr and "cpanel.whmapi1_bin" in held.stderr


def test_no_answer_is_no_agreement(fresh: DrillHost) -> None:
    without_uapi(fresh)
    shown = csm(fresh, "accounts", "show", fresh.accounts[0].user)
    assert "API and files agree" not in shown.stdout
    assert "cPanel API not checked: no call answered; 4 failed" in shown.stdout


def test_the_drill_commands_answer_like_cpanel(fresh: DrillHost) -> None:
    uapi = fresh.root / "usr/local/cpanel/bin/uapi"
    user = fresh.accounts[0].user
    env: dict[str, Any] = {"PATH": os.environ["PATH"]}
    done = subprocess.run(
        [str(uapi), "--output=json", f"--user={user}", "Email", "list_pops"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    reply = json.loads(done.stdout)
    assert reply["result"]["status"] == 1
    assert {p["email"] for p in reply["result"]["data"]} >= {
        m.address for m in fresh.accounts[0].mailboxes
    }


def test_two_hosts_of_one_seed_share_mariadb_without_sharing_names(tmp_path: Path) -> None:
    """Building a second host never drops or resets the first one's databases and users."""
    first = build(tmp_path / "a", 5, SystemClock(), with_databases=True)
    second = build(tmp_path / "b", 5, SystemClock(), with_databases=True)
    assert first.accounts[0].user == second.accounts[0].user  # the same seed: the same accounts
    assert set(first.databases).isdisjoint(second.databases)
    site = next(s for a in first.accounts for s in a.sites if s.wordpress)
    conn = pymysql.connect(host="127.0.0.1", port=3306, user=site.db_user,
                           password=site.db_password, database=site.db_name)  # fmt: skip
    conn.close()


def test_rotation_reports_each_item_as_it_goes(fresh: DrillHost, tmp_path: Path) -> None:
    user = fresh.accounts[0].user
    boxes = [f"mailbox:{m.address}" for m in fresh.accounts[0].mailboxes[:2]]
    done = csm(fresh, "creds", "rotate", user, *boxes, "--secrets-out", str(tmp_path / "s"))
    assert done.returncode == 0, done.stderr
    assert [line.strip() for line in done.stderr.splitlines()] == [f"{b}: ok" for b in boxes]
