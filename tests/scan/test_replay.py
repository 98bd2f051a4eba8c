"""Recording is idempotent and writers take turns: ``check-logs --store`` run twice, on a copy,
on a compressed rotation, or by two processes at once records every finding once, and never
crashes."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from csm.drill.build import DrillHost
from tests.scan.test_logs import logs

REPO = Path(__file__).resolve().parents[2]


def state(cli: Any) -> list[tuple[str, str, int]]:
    """Every incident with its kind and finding count."""
    items = cli("incidents", "list", "--all", "--json").json()["items"]
    return sorted((i["id"], i["kind"], i["finding_count"]) for i in items)


def test_a_second_run_records_nothing_again(cli: Any, drill: DrillHost) -> None:
    first = cli("check-logs", *logs(drill), "--store", "--json").json()["recorded"]
    after_first = state(cli)
    assert first["created"] >= 2 and first["repeated"] == 0
    again = cli("check-logs", *logs(drill), "--store", "--json")
    assert again.code == 0, again.err
    second = again.json()["recorded"]
    assert (second["created"], second["merged"], second["pending"]) == (0, 0, 0)
    assert second["repeated"] == len(again.json()["findings"]) > 0
    assert state(cli) == after_first
    assert "recorded before (left out)" in cli("check-logs", *logs(drill), "--store").out


def test_a_copy_or_a_compressed_rotation_is_the_same_log(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    mainlog = Path(logs(drill)[0])
    cli("check-logs", str(mainlog), "--store")
    before = state(cli)
    copy = tmp_path / "exim_mainlog.1"
    shutil.copyfile(mainlog, copy)
    packed = tmp_path / "exim_mainlog.2.gz"
    with mainlog.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    for replay in (copy, packed):
        result = cli("check-logs", str(replay), "--store", "--json").json()["recorded"]
        assert result["created"] == result["merged"] == 0
    assert state(cli) == before


def test_new_lines_appended_are_recorded_and_the_old_ones_not(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    mainlog = Path(logs(drill)[0])
    lines = mainlog.read_bytes().splitlines(keepends=True)
    growing = tmp_path / "exim_mainlog"
    growing.write_bytes(b"".join(lines[: len(lines) // 10]))  # the morning
    first = cli("check-logs", str(growing), "--store", "--json").json()
    growing.write_bytes(b"".join(lines))  # the rest of the day arrives
    second = cli("check-logs", str(growing), "--store", "--json").json()
    assert 1 <= second["recorded"]["repeated"] == len(first["findings"])
    assert len(second["findings"]) > len(first["findings"])
    assert second["recorded"]["created"] + second["recorded"]["merged"] >= 1


def test_two_writers_at_once_take_turns(drill: DrillHost, cli: Any) -> None:
    """Three ``check-logs --store`` at once end where one alone ends, on a copy of the host."""
    alone = drill.root.parent / "alone"
    shutil.copytree(drill.root, alone, symlinks=True)
    config = alone / drill.config_path.relative_to(drill.root)
    config.write_text(config.read_text().replace(str(drill.root), str(alone)))
    argv = [str(REPO / ".venv/bin/csm"), "check-logs", *logs(drill), "--store", "--json"]
    env = {**os.environ, "CSM_CONFIG": str(drill.config_path)}
    running = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for process in running:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
        assert b"Traceback" not in err
    one = subprocess.run(argv, env={**env, "CSM_CONFIG": str(config)}, capture_output=True,
                         check=False)  # fmt: skip
    assert one.returncode == 0, one.stderr.decode()
    listed = subprocess.run(
        [str(REPO / ".venv/bin/csm"), "incidents", "list", "--all", "--json"],
        env={**env, "CSM_CONFIG": str(config)}, capture_output=True, check=True,
    )  # fmt: skip
    separate = sorted((i["kind"], i["finding_count"]) for i in json.loads(listed.stdout)["items"])
    assert sorted((kind, count) for _, kind, count in state(cli)) == separate
