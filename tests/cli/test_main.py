from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from csm.cli.main import COMMANDS, LazyGroup
from csm.cli.main import cli as root


def leaf_commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(root)
    found: list[tuple[str, click.Command]] = []

    def walk(prefix: str, group: click.Group) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            if isinstance(command, click.Group):
                walk(f"{prefix}{name} ", command)
            else:
                found.append((f"{prefix}{name}", command))

    walk("", root)
    return found


def test_every_command_has_json() -> None:
    missing = [
        name for name, cmd in leaf_commands() if "as_json" not in {p.name for p in cmd.params}
    ]
    assert missing == []


def test_help_lists_every_command_without_importing_them(cli: Any) -> None:
    result = cli("--help")
    assert result.code == 0
    for name in COMMANDS:
        assert re.search(rf"^  {name}\s", result.out, re.M)
    heavy = "('pydantic', 'csm.health', 'rich', 'yaml')"
    code = (
        "import sys; from csm.cli.main import run; run(['--help']); "
        f"print(sorted(m for m in sys.modules if m.startswith({heavy})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_version_line(cli: Any) -> None:
    result = cli("version")
    assert result.code == 0
    assert re.fullmatch(r"csm \S+ \(build: (\w{7}|unknown), date: (\S+Z|unknown)\)\n", result.out)
    assert set(cli("version", "--json").json()) == {"version", "build", "date"}


def test_the_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "csm"
    done = subprocess.run([str(script), "version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("csm ")


@pytest.mark.parametrize("args", [["doctor", "--bogus"], ["no-such-command"], ["drill", "build"]])
def test_usage_errors_exit_2(cli: Any, args: list[str]) -> None:
    result = cli(*args)
    assert result.code == 2
    assert result.out == ""


def test_usage_errors_under_json_use_the_error_envelope(cli: Any) -> None:
    result = cli("status", "--json", "--bogus")
    assert result.code == 2
    assert result.json() == {"ok": False, "error": "No such option '--bogus'.", "code": "usage"}


def test_errors_without_json_go_to_stderr_with_the_fix(cli: Any, tmp_path: Path) -> None:
    result = cli("--config", str(tmp_path / "none.yaml"), "status")
    assert result.code == 4
    assert result.out == ""
    assert "config file not found" in result.err
    assert "Fix: " in result.err


def test_lazy_group_returns_none_for_unknown_names() -> None:
    assert LazyGroup().get_command(click.Context(root), "nope") is None


def test_json_output_is_valid_json_for_each_command_that_needs_no_host(cli: Any) -> None:
    for args in (["version", "--json"], ["validate", "--json"], ["status", "--json"]):
        json.loads(cli(*args).out)


def test_version_as_an_option(cli: Any) -> None:
    result = cli("--version")
    assert result.code == 0 and result.out.startswith("csm ") and "build:" in result.out


def test_global_options_after_the_subcommand(cli: Any, drill: Any, monkeypatch: Any) -> None:
    config = str(drill.config_path)
    monkeypatch.delenv("CSM_CONFIG")
    for args in (("status", "--config", config, "--json"), ("status", f"--config={config}")):
        result = cli(*args)
        assert result.code == 0, result.err


def test_top_level_help_says_what_each_group_does(cli: Any) -> None:
    shown = cli("--help").out
    assert "files (webshells) and databases" in shown
    assert "Stop and resume all mail" in shown
    assert "Block and unblock IPs" in shown
