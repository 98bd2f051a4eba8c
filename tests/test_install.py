"""``csm install`` / ``csm uninstall`` under ``--root``: what is written, with which modes;
a second run changes nothing; the operator's config is never overwritten; data stays
unless --purge, and the quarantine always."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_install_writes_the_unit_config_and_directories(cli: Any, tmp_path: Path) -> None:
    root = tmp_path / "host"
    done = cli("install", "--root", str(root), "--json")
    assert done.code == 0, done.err
    unit = (root / "etc/systemd/system/csm.service").read_text()
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "Restart=always" in unit
    assert " daemon\n" in unit.split("ExecStart=", 1)[1].splitlines()[0] + "\n"
    assert mode(root / "etc/csm/csm.yaml") == 0o600
    for directory in ("var/lib/csm/state", "var/log/csm", "opt/csm/quarantine"):
        assert mode(root / directory) == 0o700
    assert "/var/log/csm/*.jsonl" in (root / "etc/logrotate.d/csm").read_text()
    again = cli("install", "--root", str(root), "--json").json()
    assert {c["action"] for c in again["changes"]} == {"unchanged"}


def test_the_operators_config_is_kept(cli: Any, tmp_path: Path) -> None:
    root = tmp_path / "host"
    (root / "etc/csm").mkdir(parents=True)
    (root / "etc/csm/csm.yaml").write_text("hostname: mine\n")
    done = cli("install", "--root", str(root), "--json").json()
    kept = [c for c in done["changes"] if c["path"] == "/etc/csm/csm.yaml"]
    assert kept[0]["action"] == "kept"
    assert (root / "etc/csm/csm.yaml").read_text() == "hostname: mine\n"


def test_uninstall_keeps_data_unless_purged_and_the_quarantine_always(
    cli: Any, tmp_path: Path
) -> None:
    root = tmp_path / "host"
    assert cli("install", "--root", str(root)).code == 0
    (root / "var/lib/csm/state/csm.db").write_bytes(b"state")
    (root / "opt/csm/quarantine/kept.php").write_bytes(b"<?php evidence")
    (root / "etc/logrotate.d/other").write_text("not ours\n")
    assert cli("uninstall", "--root", str(root)).code == 0
    assert not (root / "etc/systemd/system/csm.service").exists()
    assert (root / "var/lib/csm/state/csm.db").exists() and (root / "etc/csm/csm.yaml").exists()
    assert cli("uninstall", "--purge", "--root", str(root)).code == 0
    assert not (root / "var/lib/csm/state").exists() and not (root / "etc/csm").exists()
    assert (root / "opt/csm/quarantine/kept.php").read_bytes() == b"<?php evidence"
    assert (root / "etc/logrotate.d/other").exists()


def test_a_foreign_unit_is_left_alone(cli: Any, tmp_path: Path) -> None:
    root = tmp_path / "host"
    unit = root / "etc/systemd/system/csm.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/opt/other\n")
    done = cli("uninstall", "--root", str(root), "--json").json()
    assert [c["action"] for c in done["changes"] if c["path"].endswith("csm.service")] == ["kept"]
    assert unit.exists()
