"""Generated documentation: the CLI reference (from the click tree), the exit-code table (from
``errors.py``) and the settings table (from the config model).  ``make docs`` writes them into
``docs/``; a test checks the files are current."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path

import click

from csm.cli.main import cli
from csm.config.model import settings
from csm.errors import exit_code_table

START = "<!-- generated: do not edit below; `make docs` rewrites it -->"


def cli_reference() -> str:
    ctx = click.Context(cli, info_name="csm")
    parts = ["## Commands\n"]
    for path, command in _walk(ctx, cli, "csm"):
        parts.append(_command_section(path, command, ctx))
    parts.append(exit_codes())
    return "\n".join(parts)


def _walk(
    ctx: click.Context, group: click.Group, prefix: str
) -> Iterator[tuple[str, click.Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from _walk(ctx, command, path)
        else:
            yield path, command


def _command_section(path: str, command: click.Command, parent: click.Context) -> str:
    ctx = click.Context(command, info_name=path, parent=parent)
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [f"### `{path}`\n", f"`{path} {usage}`\n", inspect.cleandoc(command.help or "") + "\n"]
    for param in command.params:
        record = param.get_help_record(ctx)
        if record and record[1]:
            lines.append(f"- `{record[0]}`: {record[1]}")
    return "\n".join(lines) + "\n"


def exit_codes() -> str:
    rows = ["## Exit codes\n", "| exit | JSON `code` | meaning |", "|---|---|---|"]
    rows += [
        f"| {exit_code} | `{code}` | {meaning} |" for exit_code, code, meaning in exit_code_table()
    ]
    return "\n".join(rows) + "\n"


def config_reference() -> str:
    rows = ["## Settings\n", "| key | type | default | meaning |", "|---|---|---|---|"]
    for setting in settings():
        default = f"`{setting.default}`" if not setting.default.startswith("(") else setting.default
        cells = [f"`{setting.path}`", setting.type, default, setting.description]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


def render(path: Path, generated: str) -> str:
    """The file's hand-written head, the marker, then the generated part."""
    text = path.read_text() if path.exists() else ""
    head = text.split(START, 1)[0].rstrip() + "\n\n" if START in text else text
    return head + START + "\n\n" + generated


DOCUMENTS = {"cli.md": cli_reference, "config.md": config_reference}


SUMMARIES = Path(__file__).with_name("summaries.py")


def summaries() -> str:
    """:mod:`csm.cli.summaries`: each top-level command's own one-line help."""
    ctx = click.Context(cli, info_name="csm")
    lines = [
        '"""Each top-level command\'s one-line help, for `csm --help`.  Generated from the',
        'commands\' own ``short_help`` by `make docs` (a test checks it is current)."""',
        "",
        "SUMMARIES: dict[str, str] = {",
    ]
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        if command is not None:
            text = command.get_short_help_str(limit=100)
            lines.append(f"    {json.dumps(name)}: {json.dumps(text, ensure_ascii=False)},")
    return "\n".join([*lines, "}", ""])


def write(docs: Path) -> list[Path]:
    changed = []
    for name, make in DOCUMENTS.items():
        path = docs / name
        content = render(path, make())
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            changed.append(path)
    if SUMMARIES.read_text() != summaries():
        SUMMARIES.write_text(summaries())
        changed.append(SUMMARIES)
    return changed
