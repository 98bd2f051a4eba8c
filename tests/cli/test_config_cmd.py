from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from csm.drill.build import DrillHost
from csm.store.migrations import MIGRATIONS
from tests.conftest import dropin


def test_validate_accepts_the_drill_config(cli: Any, drill: DrillHost) -> None:
    result = cli("validate")
    assert result.code == 0
    assert result.out.startswith("OK: ")


def test_validate_names_each_unknown_key_path_and_exits_1(cli: Any, drill: DrillHost) -> None:
    dropin(
        drill,
        "50-typo.yaml",
        "mail:\n  exim_bin: /usr/sbin/exim\n  exim_cfg: /x\nmysql:\n  pot: 1\n",
    )
    result = cli("validate")
    assert result.code == 1
    assert "mail.exim_cfg: unknown key" in result.out
    assert "mysql.pot: unknown key" in result.out
    report = cli("validate", "--json").json()
    assert report["valid"] is False
    assert {p["path"] for p in report["problems"]} == {"mail.exim_cfg", "mysql.pot"}


def test_validate_of_a_missing_file_exits_1(cli: Any, tmp_path: Path) -> None:
    result = cli("--config", str(tmp_path / "missing.yaml"), "validate", "--json")
    assert result.code == 1
    assert "not found" in result.json()["problems"][0]["message"]


def test_config_dir_option_selects_the_dropins(cli: Any, drill: DrillHost, tmp_path: Path) -> None:
    other = tmp_path / "other.d"
    other.mkdir()
    (other / "x.yaml").write_text("mail:\n  command_timeout: 7\n")
    shown = cli("--config-dir", str(other), "config", "show", "--json").json()
    assert shown["mail"]["command_timeout"] == 7


def test_config_show_redacts_secrets(cli: Any, drill: DrillHost) -> None:
    dropin(drill, "60-secret.yaml", "mysql:\n  password: s3cret-pass\n")
    shown = cli("config", "show", "--json").json()
    assert shown["mysql"]["password"] == "***"
    assert shown["paths"]["root"] == str(drill.root)
    human = cli("config", "show").out
    assert "s3cret-pass" not in human
    assert (
        cli("config", "show", "--no-redact", "--json").json()["mysql"]["password"] == "s3cret-pass"
    )


def test_store_migrate_is_idempotent_and_audited(cli: Any, drill: DrillHost) -> None:
    (drill.root / "var/lib/csm/state/csm.db").unlink()
    first = cli("store", "migrate", "--json").json()
    assert first["applied"] == [m.name for m in MIGRATIONS]
    again = cli("store", "migrate", "--json").json()
    assert again["applied"] == []
    lines = (drill.root / "var/log/csm/audit.jsonl").read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["action"] == "store.migrate"


def test_every_command_names_the_bad_key_and_its_file_and_line(cli: Any, drill: DrillHost) -> None:
    text = "mail:\n  exim_bn: /x\nincidents:\n  merge_window: banana\n"
    typo = dropin(drill, "90-typo.yaml", text)
    for args in (("status",), ("incidents", "list"), ("queue", "count")):
        result = cli(*args)
        assert result.code == 4, args
        assert f"mail.exim_bn: unknown key  ({typo}:2)" in result.err, result.err
        assert "incidents.merge_window: " in result.err and f"({typo}:4)" in result.err
    envelope = cli("status", "--json").json()
    assert {(p["path"], p["source"]) for p in envelope["problems"]} == {
        ("mail.exim_bn", f"{typo}:2"),
        ("incidents.merge_window", f"{typo}:4"),
    }
