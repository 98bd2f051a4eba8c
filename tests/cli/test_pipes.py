"""A reader that leaves early (``| true``, ``| head -1``) ends the command quietly: no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from csm.clock import SystemClock
from csm.drill.build import build
from csm.drill.mailqueue import build_queue

CSM = str(Path(sys.executable).with_name("csm"))
pytestmark = pytest.mark.exim


@pytest.mark.parametrize(
    "command",
    ["queue count", "queue count --json", "queue summary", "queue list", "queue list --json",
     "incidents list", "--help"],
)  # fmt: skip
def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path: Path, command: str) -> None:
    host = build(tmp_path / "host", 1, SystemClock())
    build_queue(host, 1)
    env = {"PATH": os.environ["PATH"], "CSM_CONFIG": str(host.config_path)}
    subprocess.run([CSM, "validate"], env=env, capture_output=True, check=True)  # the quick path
    for reader in ("true", "head -c 1", "true"):
        done = subprocess.run(
            ["bash", "-c", f"{CSM} {command} | {reader}; echo status=${{PIPESTATUS[0]}} >&2"],
            env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
        # 141 (128 + SIGPIPE) from the quick path, 1 from click's own handling; 0 if all fit
        assert done.stderr.strip().rsplit("=", 1)[-1] in ("0", "1", "141"), done.stderr
