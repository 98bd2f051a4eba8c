"""``csm forensic-snapshot`` from the command line: the runbook's step 3 exactly as written (its
/root/csm-forensics moved into the test's directory), run from another directory; the snapshot
is audited and put on the account's incidents."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.forensic.conftest import Drilled

CSM = str(Path(sys.executable).parent / "csm")


@pytest.fixture
def selected(drilled: Drilled, monkeypatch: pytest.MonkeyPatch) -> Drilled:
    monkeypatch.setenv("CSM_CONFIG", str(drilled.drill.config_path))
    return drilled


def test_the_runbook_s_step_3_works_as_written(selected: Drilled, tmp_path: Path) -> None:
    forensics, account = tmp_path / "csm-forensics", selected.victim.user
    script = (
        f"set -euo pipefail\nmkdir -p {forensics}\n"
        f"{CSM} forensic-snapshot {account} --out"
        f" {forensics}/{account}-$(date +%Y%m%d%H%M%S).tar.gz\n"
        f"sha256sum -c {forensics}/{account}-*.sha256\n"
        f"tar -xOzf {forensics}/{account}-*.tar.gz manifest.txt\n"
    )
    env = {"CSM_CONFIG": str(selected.drill.config_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["bash", "-c", script], cwd="/", env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    archive = next(forensics.glob(f"{account}-*.tar.gz"))
    lines = done.stdout.splitlines()
    assert lines[0] == f"Snapshot: {archive}" and lines[1].startswith("SHA256:   ")
    assert lines[2] == f"{archive}: OK"
    manifest = lines[3:]
    assert manifest[0] == f"account={account}" and "private_paths_excluded=true" in manifest
    assert "recent_mtimes_status=ok" in manifest and "dump_error_count=0" in manifest


def test_the_snapshot_is_recorded_with_the_account_s_incidents(
    cli: Any, selected: Drilled, tmp_path: Path
) -> None:
    account = selected.victim.user
    out = tmp_path / "evidence.tar.gz"
    done = cli("forensic-snapshot", account, "-o", str(out), "--json")
    assert done.code == 0, done.err
    digest = done.json()["sha256"]
    audit = (selected.root / "var/log/csm/audit.jsonl").read_text()
    assert '"action": "forensic.snapshot"' in audit and digest in audit
    active = cli("incidents", "list", "--account", account, "--status", "active", "--json")
    assert active.json()["items"]
    for incident in active.json()["items"]:
        actions = cli("incidents", "show", incident["id"], "--json").json()["actions"]
        assert any(a["action"] == "forensic_snapshot" and digest in a["details"] for a in actions)


def test_wrong_arguments_are_refused_before_anything_is_written(
    cli: Any, selected: Drilled, tmp_path: Path
) -> None:
    account = selected.victim.user
    assert cli("forensic-snapshot", account).code == 2  # --out is required
    assert cli("forensic-snapshot", "--out", str(tmp_path / "a.tar.gz")).code == 2
    assert cli("forensic-snapshot", "../etc", "--out", str(tmp_path / "a.tar.gz")).code == 2
    inside = selected.home(selected.victim) / "evidence.tar.gz"
    refused = cli("forensic-snapshot", account, "--out", str(inside))
    assert refused.code == 3 and f"out path must not be inside /home/{account}/" in refused.err
    assert (
        cli("forensic-snapshot", account, "-o", str(tmp_path / "b.tgz"), "--since", "x").code == 2
    )
    assert not inside.exists() and list(tmp_path.iterdir()) == []
