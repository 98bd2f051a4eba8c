"""``csm quarantine <path> [--reason]``, ``csm quarantine list``, ``… restore <id>``."""

from __future__ import annotations

import click
from rich.text import Text

from csm.cli.context import CliContext
from csm.cli.output import emit_json, emit_list, json_option
from csm.operations.base import perform
from csm.operations.response import QuarantineFile, RestoreFile
from csm.response.quarantine import Listed


@click.command("quarantine", short_help="Quarantine a file; list; restore.")
@click.argument("args", nargs=-1, required=True)
@click.option("--reason", default="", help="Why (recorded with the file).")
@json_option
@click.pass_obj
def quarantine(obj: CliContext, /, args: tuple[str, ...], reason: str, as_json: bool) -> None:
    """Move a file (its absolute host path) into the quarantine, keeping everything needed to
    put it back; `list` shows what is there; `restore ID` puts a file back exactly."""
    app = obj.app()
    if args == ("list",):
        with app.quarantine() as service:
            files = service.list()
    elif len(args) == 2 and args[0] == "restore":
        files = [perform(app, RestoreFile(args[1]))]
    elif len(args) == 1 and args[0].startswith("/"):
        files = [perform(app, QuarantineFile(args[0], reason))]
    else:
        raise click.UsageError("csm quarantine PATH | list | restore ID")
    if as_json:
        if args == ("list",):
            emit_list(files)
        else:
            emit_json(files[0])
    else:
        _render(files)


def _render(files: list[Listed]) -> None:
    from csm.cli.incidents_view import _console, _table, safe, when  # noqa: PLC0415

    console = _console()
    table = _table("ID", "PATH", "SIZE", "SHA256", "WHEN", "RESTORED", "REASON")
    for item in files:
        table.add_row(
            item.id,
            safe(item.path),
            str(item.size),
            item.sha256[:16],
            when(item.quarantined_at),
            when(item.restored_at),
            safe(item.reason),
        )
    console.print(table)
    console.print(Text(f"{len(files)} file(s)"))
