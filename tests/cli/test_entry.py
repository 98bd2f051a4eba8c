"""``csm queue count`` and ``csm queue summary`` answered before the configuration model loads:
only while the validated configuration's snapshot matches every input (and, for the summary,
while the spool index's accounts were read from files unchanged since); otherwise the full
command answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from csm.cli import entry
from csm.clock import SystemClock
from csm.config import snapshot
from csm.drill.build import EXIM_CONFIG, DrillHost, build
from csm.drill.mailqueue import QueuePlan, build_queue
from csm.mailqueue import index
from tests.conftest import dropin


def fast(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int | None, str]:
    code = entry.queue_count(["queue", "count", *args], env)
    return code, capsys.readouterr().out


def test_the_fast_count_is_the_full_count_while_the_config_holds(
    cli: Any, drill: DrillHost, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"CSM_CONFIG": str(drill.config_path)}
    assert fast(env, capsys) == (None, "")  # no snapshot before a full load
    spool = drill.root / "var/spool/exim/input/Q"
    spool.mkdir(parents=True)
    for name in ("1xVGME-0007g9-0Q-H", "1xVGMF-0007g9-0Q-H", "1xVGMF-0007g9-0Q-D", "junk-H"):
        (spool / name).write_text("x")
    full = cli("queue", "count", "--json")
    assert full.code == 0 and full.json() == {"count": 2}
    assert fast(env, capsys, "--json") == (0, json.dumps({"count": 2}, indent=2) + "\n")
    assert fast(env, capsys) == (0, "2\n")


@pytest.mark.parametrize("change", ["dropin", "env", "main"])
def test_any_changed_input_sends_the_count_to_the_full_command(
    cli: Any, drill: DrillHost, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    env = {"CSM_CONFIG": str(drill.config_path)}
    assert cli("queue", "count").code == 0
    capsys.readouterr()
    if change == "dropin":
        dropin(drill, "60-spool.yaml", "mail:\n  exim_spool: /var/spool/elsewhere\n")
    elif change == "env":
        env["CSM_MAIL__EXIM_SPOOL"] = "/var/spool/elsewhere"
    else:
        drill.config_path.write_text(drill.config_path.read_text() + "\n# edited\n")
    assert fast(env, capsys) == (None, "")


def test_a_damaged_snapshot_is_ignored(
    drill: DrillHost, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot.location(drill.config_path).write_text("{not json")
    assert fast({"CSM_CONFIG": str(drill.config_path)}, capsys) == (None, "")


def test_the_snapshot_holds_no_secrets(cli: Any, drill: DrillHost) -> None:
    token = "    - name: ops\n      token: s3cr3t-token-value-0123456789\n      scope: admin\n"
    dropin(drill, "70-api.yaml", f"api:\n  tokens:\n{token}")
    cli("queue", "count")
    saved = snapshot.location(drill.config_path)
    assert saved.stat().st_mode & 0o777 == 0o600
    assert "s3cr3t" not in saved.read_text()


def settled() -> None:
    """Wait until files written now are old enough for the index to trust their stamps."""
    time.sleep(index.RACY_NS / 1e9)


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory) -> tuple[DrillHost, QueuePlan]:
    host = build(tmp_path_factory.mktemp("quick") / "host", 1, SystemClock())
    plan = build_queue(host, 1)
    settled()  # the host's account files, written just now
    return host, plan


@pytest.fixture
def summarising(
    queued: tuple[DrillHost, QueuePlan], monkeypatch: pytest.MonkeyPatch
) -> tuple[DrillHost, QueuePlan, dict[str, str]]:
    monkeypatch.setenv("CSM_CONFIG", str(queued[0].config_path))
    return (*queued, {"CSM_CONFIG": str(queued[0].config_path)})


def quick(env: dict[str, str], capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code = entry.queue_summary(["queue", "summary", *args], env)
    return code, capsys.readouterr()


def without_ages(text: str) -> list[list[str]]:
    """The table's cells but the two ages (a minute may turn between two runs)."""
    return [cells[:2] + cells[4:] for cells in (line.split() for line in text.splitlines())]


def test_the_quick_summary_is_the_full_summary(
    cli: Any, summarising: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, env = summarising
    for by in ("domain", "sender", "account", "auth", "script"):
        full = cli("queue", "summary", "--by", by, "--json")
        assert full.code == 0
        code, shown = quick(env, capsys, f"--by={by}", "--json")
        assert code == 0 and shown.out == full.out
    text = cli("queue", "summary", "--by", "auth")
    code, shown = quick(env, capsys, "--by", "auth")
    assert code == 0 and without_ages(shown.out) == without_ages(text.out)


def test_the_quick_summary_sees_what_exim_changed(
    cli: Any, summarising: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    host, plan, env = summarising
    assert cli("queue", "summary", "--json").code == 0
    before = json.loads(quick(env, capsys, "--by", "sender", "--json")[1].out)["total"]
    exim = [host.exim_bin, "-C", str(host.root / EXIM_CONFIG.lstrip("/"))]
    reply = plan.ids["replies"][0]
    subprocess.run([*exim, "-Mf", reply], check=True, capture_output=True)
    frozen = json.loads(quick(env, capsys, "--by", "sender", "--json")[1].out)["total"]
    assert frozen["frozen"] == before["frozen"] + 1
    subprocess.run([*exim, "-Mrm", reply], check=True, capture_output=True)
    code, shown = quick(env, capsys, "--by", "sender", "--json")
    after = json.loads(shown.out)["total"]
    assert code == 0 and after["frozen"] == before["frozen"]
    assert after["messages"] == before["messages"] - 1
    assert after == cli("queue", "summary", "--by", "sender", "--json").json()["total"]


@pytest.mark.parametrize("change", ["userdomains", "account", "config"])
def test_new_owners_send_the_summary_to_the_full_command(
    cli: Any, drill: DrillHost, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    env = {"CSM_CONFIG": str(drill.config_path)}
    (drill.root / "var/spool/exim/input").mkdir(parents=True, exist_ok=True)  # an empty queue
    settled()
    assert quick(env, capsys)[0] is None  # no index yet
    assert cli("queue", "summary").code == 0
    assert quick(env, capsys)[0] == 0
    if change == "userdomains":
        with (drill.root / "etc/userdomains").open("a") as stream:
            stream.write("newshop.test: bluefin\n")
    elif change == "account":
        (drill.root / "var/cpanel/users/newcustomer").write_text("USER=newcustomer\n")
    else:
        dropin(drill, "60-min-uid.yaml", "hosting:\n  min_uid: 500\n")
    assert quick(env, capsys)[0] is None
    assert cli("queue", "summary").code == 0


@pytest.mark.parametrize(
    "args", [["--by", "nothing"], ["--by"], ["--all"], ["--json", "extra"], ["--help"]]
)
def test_other_arguments_go_to_the_full_command(args: list[str]) -> None:
    assert entry.summary_args(["queue", "summary", *args]) is None


def test_the_quick_paths_load_no_configuration_or_terminal_library(
    cli: Any, summarising: Any
) -> None:
    _, _, env = summarising
    assert cli("queue", "summary").code == 0
    probe = (
        "import sys\nfrom csm.cli import entry\n"
        "assert entry.queue_count(['queue', 'count'], {'CSM_CONFIG': sys.argv[1]}) == 0\n"
        "assert entry.queue_summary(['queue', 'summary'], {'CSM_CONFIG': sys.argv[1]}) == 0\n"
        "print(sorted({'click', 'pydantic', 'rich', 'yaml'} & set(sys.modules)))\n"
    )
    argv = [sys.executable, "-c", probe, env["CSM_CONFIG"]]
    done = subprocess.run(
        argv, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
