"""``csm forensic-snapshot --out`` over an earlier snapshot: refused (exit 3, the evidence
kept) unless ``--force``; over a FIFO or a symlink: refused even then."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from csm.drill.build import DrillHost

pytestmark = pytest.mark.mariadb


def test_an_earlier_snapshot_is_kept_unless_forced(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    account = drill.accounts[0].user
    out = tmp_path / "evidence" / f"{account}.tar.gz"
    out.parent.mkdir()
    first = cli("forensic-snapshot", account, "--out", str(out), "--json")
    assert first.code == 0, first.err
    sidecar = out.with_name(out.name + ".sha256")
    kept = out.read_bytes(), sidecar.read_bytes()
    again = cli("forensic-snapshot", account, "--out", str(out), "--json")
    assert again.code == 3 and "already exists" in again.json()["error"]
    assert (out.read_bytes(), sidecar.read_bytes()) == kept
    forced = cli("forensic-snapshot", account, "--out", str(out), "--force", "--json")
    assert forced.code == 0, forced.err
    assert sidecar.read_text().split()[0] == forced.json()["sha256"]
    fifo = out.with_name("fifo.tar.gz")
    os.mkfifo(fifo)
    refused = cli("forensic-snapshot", account, "-o", str(fifo), "--force")
    assert refused.code == 3 and "not a regular file" in refused.err
