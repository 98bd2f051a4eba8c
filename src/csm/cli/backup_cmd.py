"""``csm backup <out.tar.gz>``, ``csm backup verify <archive>`` and ``csm restore <archive>``."""

from __future__ import annotations

from pathlib import Path

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.cli.terminal import printable


@click.command("backup")
@click.argument("args", nargs=-1, required=True, metavar="OUT.tar.gz | verify ARCHIVE")
@json_option
@click.pass_obj
def backup(obj: CliContext, /, args: tuple[str, ...], as_json: bool) -> None:
    """Back up the configuration, its drop-ins and the state (also while the daemon runs):
    `csm backup OUT.tar.gz`; `csm backup verify ARCHIVE` re-checks an archive's files."""
    if args[0] == "verify":
        if len(args) != 2:
            raise click.UsageError("csm backup verify ARCHIVE")
        _verify(obj, Path(args[1]), as_json)
        return
    if len(args) != 1:
        raise click.UsageError("csm backup OUT.tar.gz (or: csm backup verify ARCHIVE)")
    app = obj.app()
    written = app.backups().create(Path(args[0]), app.operator)
    if as_json:
        emit_json(written)
        return
    click.echo(f"backup written: {written.path} ({written.size} bytes)")
    click.echo(f"sha256: {written.sha256}")


def _verify(obj: CliContext, archive: Path, as_json: bool) -> None:
    result = obj.app().backups().verify(archive)
    if as_json:
        emit_json(result)
    else:
        state = "ok" if result.ok else "FAILED"
        click.echo(f"{result.archive}: {state} ({result.files} files checked against"
                   f" manifest.txt; backup_ts={result.backup_ts})")  # fmt: skip
        click.echo(f"sha256: {result.sha256}" + ("" if result.recorded else " (not recorded here)"))
        for problem in result.problems:
            click.echo(f"  {printable(problem)}", err=True)
    if not result.ok:
        click.get_current_context().exit(1)


@click.command("restore")
@click.argument("archive", type=click.Path(path_type=Path))
@json_option
@click.pass_obj
def restore(obj: CliContext, /, archive: Path, as_json: bool) -> None:
    """Restore a backup (the daemon stopped): checked and staged whole before anything live
    changes, swapped in atomically, rolled back on failure."""
    app = obj.app()
    done = app.backups().restore(archive, app.operator)
    if as_json:
        emit_json(done)
        return
    click.echo(f"restored from {done.archive} - start daemon: systemctl start csm.service")
