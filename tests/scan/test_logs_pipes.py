"""``csm check-logs`` given a named pipe (or a device) as a log: the file is reported with its
error and skipped, the other files are still checked, and the command ends as it does on a
damaged log (exit 1).  It once waited on the pipe forever."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from csm.drill.build import DrillHost
from tests.pipes import returns


def test_a_pipe_given_as_a_log_is_reported_and_skipped(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    mainlog = str(drill.root / "var/log/exim_mainlog")
    whole = cli("check-logs", mainlog, "--json").json()
    for name in ("exim_mainlog.1", "maillog.1"):  # read as Exim's (by name) and detected
        pipe = tmp_path / name
        os.mkfifo(pipe)
        result = returns(lambda pipe=pipe: cli("check-logs", str(pipe), mainlog, "--json"), pipe)
        assert result.code == 8
        reports = {f["path"]: f for f in result.json()["files"]}
        piped, current = reports[str(pipe)], reports[mainlog]
        assert "not a regular file" in piped["error"]
        assert piped["lines"] == 0
        assert current["error"] is None and current["lines"] == whole["files"][0]["lines"]
        human = returns(lambda pipe=pipe: cli("check-logs", str(pipe)), pipe)
        assert human.code == 8 and "unreadable:" in human.out


def test_a_device_given_as_a_log_is_not_read(cli: Any, drill: DrillHost) -> None:
    result = cli("check-logs", "/dev/null", "--json")  # (/dev/zero would never end)
    assert result.code == 8
    assert "not a regular file" in result.json()["files"][0]["error"]
