"""``csm backup <out.tar.gz>``, ``csm backup verify <archive>`` and ``csm restore <archive>``."""

from __future__ import annotations

from pathlib import Path

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.cli.terminal import printable


@click.command("backup", short_help="Back up config and state; verify an archive.")
@click.argument("args", nargs=-1, required=True, metavar="OUT.tar.gz | verify ARCHIVE")
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing regular file at OUT (never a link or device).",
)
@json_option
@click.pass_obj
def backup(obj: CliContext, /, args: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Back up the configuration, its drop-ins and the state (also while the daemon runs):
    `csm backup OUT.tar.gz` (a new file; --force replaces a regular one); `csm backup verify
    ARCHIVE` re-checks an archive: its sums, configuration and store."""
    if args[0] == "verify":
        if len(args) != 2 or force:
            raise click.UsageError("csm backup verify ARCHIVE")
        _verify(obj, Path(args[1]), as_json)
        return
    if len(args) != 1:
        raise click.UsageError("csm backup OUT.tar.gz (or: csm backup verify ARCHIVE)")
    from csm.operations.backup import TakeBackup  # noqa: PLC0415
    from csm.operations.base import perform  # noqa: PLC0415

    out = Path(args[0]).absolute()  # the daemon may write it
    written = perform(obj.app(), TakeBackup(out, force))
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
        click.echo(
            f"{result.archive}: {state} ({result.files} files checked against"
            f" manifest.txt; backup_ts={result.backup_ts})"
        )
        click.echo(f"sha256: {result.sha256}" + ("" if result.recorded else " (not recorded here)"))
        for problem in result.problems:
            click.echo(f"  {printable(problem)}", err=True)
    if not result.ok:
        click.get_current_context().exit(1)


@click.command("restore", short_help="Restore a backup (the daemon stopped).")
@click.argument("archive", type=click.Path(path_type=Path))
@click.option(
    "--accept-unsummed",
    is_flag=True,
    help="Restore an archive whose manifest lists no sha256 sums (the Go CSM's);"
    " recorded in the audit log.",
)
@json_option
@click.pass_obj
def restore(obj: CliContext, /, archive: Path, accept_unsummed: bool, as_json: bool) -> None:
    """Restore a backup (the daemon stopped): staged and checked whole (sums, configuration,
    store) before anything live changes; the live install is backed up first; swapped in
    atomically, rolled back on failure."""
    app = obj.app()
    done = app.backups().restore(archive, app.operator, accept_unsummed=accept_unsummed)
    if as_json:
        emit_json(done)
        return
    click.echo(f"restored from {done.archive}")
    click.echo(
        f"the install as it was is in {done.pre_restore_backup}"
        f" (to undo: csm restore {done.pre_restore_backup})",
        err=True,
    )
