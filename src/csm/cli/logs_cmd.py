"""``csm check-logs``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from csm.cli import times
from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.errors import UnreadableInputError
from csm.operations.base import perform
from csm.operations.scans import LINES, CheckLogs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.table import Table

    from csm.incidents.model import Finding
    from csm.scan.logs import FileReport, LogReport

SHOWN = 50


@click.command("check-logs", short_help="Run the mail detectors over log files.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--source",
    type=click.Choice(["auto", "exim", "maillog", "cpanel"]),
    default="auto",
    show_default=True,
    help="What the files are (auto: per file); cpanel: cpsrvd's access_log.",
)
@click.option("--since", help="Only findings after this: a duration (24h, 7d) or an RFC 3339 time.")
@click.option("--store", is_flag=True, help="Record the findings as incidents in the state store.")
@click.option(
    "--userdomains",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A 'domain: user' file (a copy of /etc/userdomains) naming the accounts.",
)
@json_option
@click.pass_obj
def check_logs(  # noqa: PLR0913, PLR0917 - one parameter per command-line option
    obj: CliContext,
    /,
    paths: tuple[Path, ...],
    source: str,
    since: str | None,
    store: bool,
    userdomains: Path | None,
    as_json: bool,
) -> None:
    """Run the detectors over Exim mainlogs, maillogs and cPanel's access_log (plain or .gz,
    rotated sets).

    Works without a config file (a log copied off its host): the built-in defaults then
    apply, and findings name mailboxes and addresses unless --userdomains names the accounts.
    A file that cannot be read to its end (a truncated .gz) is reported; the lines before the
    damage and the other files are still checked, and the command exits 8 (unreadable_input),
    as it does for a file that does not exist."""
    app = obj.app(optional_config=True)
    progress = not as_json and sys.stderr.isatty()
    if store:  # the daemon may read them
        paths = tuple(p.absolute() for p in paths)
        userdomains = userdomains.absolute() if userdomains else None
    operation = CheckLogs(paths, source, times.since(since), store, userdomains, progress)
    report = perform(app, operation, _show_progress, here=not store)
    if progress:
        click.echo("\r\033[K", nl=False, err=True)  # the progress line is cleared
    if as_json:
        emit_json(report)
    else:
        _render(report)
    if report.errors:  # what could be read was checked (and stored); the rest was not
        click.get_current_context().exit(UnreadableInputError.kind.exit_code)


def _show_progress(name: str, lines: Any) -> None:
    if name == LINES:
        click.echo(f"\r  {int(lines):,} lines…", nl=False, err=True)


def _render(report: LogReport) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    from csm.cli.incidents_view import safe  # noqa: PLC0415

    console = Console(highlight=False, width=None if Console().is_terminal else 200)
    console.print(_files(report.files))
    for error in report.errors:
        note = " (the lines before the damage were checked)"
        console.print(Text.assemble(("unreadable: ", "bold red"), safe(error), note))
    for check, count in report.by_check.items():
        console.print(f"  {check}: {count}")
    console.print(_findings(report.findings[:SHOWN]))
    if len(report.findings) > SHOWN:
        console.print(f"… and {len(report.findings) - SHOWN} more (use --json)")
    if report.recorded is not None:
        r = report.recorded
        again = f", {r.repeated} recorded before (left out)" if r.repeated else ""
        console.print(
            f"recorded: {r.created} incident(s) created, {r.merged} merged, {r.pending} pending"
            + again
        )


def _files(files: Sequence[FileReport]) -> Table:
    from rich.table import Table  # noqa: PLC0415

    from csm.cli.incidents_view import safe  # noqa: PLC0415

    table = Table(
        "FILE", "SOURCE", "LINES", "PARSED", "SKIPPED", "FINDINGS", box=None, header_style="bold"
    )
    for f in files:
        counts = (f"{f.lines:,}", f"{f.parsed:,}", f"{f.skipped:,}", str(f.findings))
        table.add_row(safe(f.path), f.source, *counts)
    return table


def _findings(findings: Sequence[Finding]) -> Table:
    from rich.table import Table  # noqa: PLC0415

    from csm.cli.incidents_view import safe, when  # noqa: PLC0415

    columns = ("TIME", "CHECK", "SEVERITY", "ACCOUNT", "MAILBOX/IP", "MESSAGE")
    table = Table(*columns, box=None, header_style="bold")
    for f in findings:
        table.add_row(
            when(f.time),
            f.check,
            f.severity.value,
            safe(f.account),
            safe(f.mailbox or f.remote_ip),
            safe(f.message),
        )
    return table
