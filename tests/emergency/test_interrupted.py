"""A stop or a resume killed half-way (kill -9): ``csm mail emergency status`` reports it, and
running the same command again completes it, with nothing lost and nothing released."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from csm.clock import SystemClock
from csm.drill.build import DrillHost, build
from csm.drill.mailqueue import QueuePlan, build_queue

pytestmark = pytest.mark.exim
CSM = str(Path(sys.executable).with_name("csm"))
REASON = "spam from a stolen mailbox"


@pytest.fixture
def big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[DrillHost, QueuePlan]:
    host = build(tmp_path / "host", 3, SystemClock())
    monkeypatch.setenv("CSM_CONFIG", str(host.config_path))
    return host, build_queue(host, 3, scale=5)  # 2,000 messages: freezing takes a while


def rows(host: DrillHost, sql: str) -> list[tuple[Any, ...]]:
    path = host.root / "var/lib/csm/state/csm.db"
    if not path.exists():
        return []
    with sqlite3.connect(path, timeout=10) as conn:
        try:
            return list(conn.execute(sql))
        except sqlite3.OperationalError:
            return []  # not migrated yet


def killed_when(host: DrillHost, argv: list[str], sql: str) -> None:
    """Run ``csm ARGV`` and kill -9 it as soon as ``sql`` finds a row (or it ends)."""
    env = {**os.environ, "CSM_CONFIG": str(host.config_path)}
    proc = subprocess.Popen([CSM, *argv], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if rows(host, sql):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=30)


def frozen(cli: Any) -> set[str]:
    return {m["id"] for m in cli("queue", "list", "--frozen", "--json").json()["items"]}


def queued(cli: Any) -> set[str]:
    return {m["id"] for m in cli("queue", "list", "--json").json()["items"]}


@pytest.mark.parametrize(
    "when",
    [
        "SELECT 1 FROM mail_stops",  # just begun
        "SELECT 1 FROM mail_stop_messages",  # ids recorded, freezing under way
    ],
)
def test_a_killed_stop_is_reported_and_completed_by_running_it_again(
    cli: Any, big: tuple[DrillHost, QueuePlan], when: str
) -> None:
    host, plan = big
    before = frozen(cli)
    killed_when(host, ["mail", "stop", "outbound", "--reason", REASON, "--apply"], when)
    status = cli("mail", "emergency", "status", "--json")
    assert status.code == 1
    state = status.json()
    if state["stops"] and state["stops"][0]["stop"]["state"] == "stopping":  # killed in time
        assert state["stops"][0]["interrupted"]
        assert "csm mail stop outbound" in state["stops"][0]["next_step"]
        refused = cli("mail", "resume", "outbound", "--apply")
        assert refused.code == 3 and "interrupted" in refused.err
    again = cli("mail", "stop", "outbound", "--reason", REASON, "--apply", "--json")
    if again.code == 3:  # the stop had finished before the kill landed
        assert "already stopped" in again.err
    else:
        assert again.code == 0, again.err
    assert frozen(cli) == queued(cli) and len(queued(cli)) == plan.total  # nothing lost
    recorded = {r[0] for r in rows(host, "SELECT msgid FROM mail_stop_messages")}
    assert recorded == queued(cli) - before  # exactly what the stop froze
    done = cli("mail", "resume", "outbound", "--apply", "--approve", "drill", "--json")
    assert done.code == 0, done.err
    assert frozen(cli) == before


def test_a_killed_resume_is_reported_and_completed_by_running_it_again(
    cli: Any, big: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = big
    before = frozen(cli)
    assert cli("mail", "stop", "outbound", "--reason", REASON, "--apply").code == 0
    killed_when(
        host,
        ["mail", "resume", "outbound", "--apply", "--approve", "drill"],
        "SELECT 1 FROM mail_stop_messages WHERE state = 'thawed'",
    )
    status = cli("mail", "emergency", "status", "--json").json()
    if status["stopped"]:  # killed before it finished
        assert status["stops"][0]["stop"]["state"] == "resuming"
        assert status["stops"][0]["interrupted"]
        again = cli("mail", "resume", "outbound", "--apply", "--approve", "drill")
        assert again.code == 0, again.err
    assert frozen(cli) == before and len(queued(cli)) == plan.total
    assert cli("mail", "emergency", "status").code == 0
