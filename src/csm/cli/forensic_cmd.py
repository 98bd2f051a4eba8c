"""``csm forensic-snapshot <account> --out <archive.tar.gz>``."""

from __future__ import annotations

from pathlib import Path

import click

from csm.cli import times
from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.cli.terminal import printable


@click.command(
    "forensic-snapshot", short_help="Preserve an account's evidence in a checksummed archive."
)
@click.argument("account")
@click.option(
    "--out",
    "-o",
    "out",
    required=True,
    metavar="ARCHIVE.tar.gz",
    help="Where to write the archive (outside the account's home).",
)
@click.option(
    "--with-mail",
    is_flag=True,
    help="Also its mainlog lines and queued messages' headers (never bodies).",
)
@click.option(
    "--since",
    default=None,
    metavar="DURATION",
    help="How far back recent files (and mail) go [default: 7d, or to a day before"
    " the account's oldest open incident].",
)
@click.option(
    "--force", is_flag=True, help="Replace an earlier archive (and its .sha256 sidecar) at --out."
)
@json_option
@click.pass_obj
def forensic_snapshot(  # noqa: PLR0913, PLR0917 - one parameter per command-line option
    obj: CliContext,
    /,
    account: str,
    out: str,
    with_mail: bool,
    since: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Preserve an account's evidence (runbook step 3): its WordPress databases' routines,
    triggers and events, administrators and sessions, recently modified files, and a
    manifest, in a byte-stable archive with a `sha256sum -c` sidecar."""
    window = times.length("--since", since) if since else None
    from csm.operations.base import perform  # noqa: PLC0415
    from csm.operations.scans import Snapshot  # noqa: PLC0415

    where = Path(out).absolute()  # the daemon may write it
    result = perform(obj.app(), Snapshot(account, where, with_mail, window, force))
    if as_json:
        emit_json(result)
        return
    click.echo(f"Snapshot: {result.path}")
    click.echo(f"SHA256:   {result.sha256}")
    for capture in result.failed:
        click.echo(f"capture failed: {capture.entry}: {printable(capture.error)}", err=True)
