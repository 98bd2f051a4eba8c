"""``csm queue count`` answered before the configuration model loads: only while the validated
configuration's snapshot matches every input; otherwise the full command answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from csm.cli import entry
from csm.config import snapshot
from csm.drill.build import DrillHost
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
