"""``csm check-logs``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from csm.cli import times
from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.errors import UnreadableInputError

SHOWN = 50


@click.command("check-logs")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--source", type=click.Choice(["auto", "exim", "maillog"]), default="auto", show_default=True
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
    """Run the mail detectors over Exim mainlogs and maillogs (plain or .gz, rotated sets).

    Works without a config file (a log copied off its host): the built-in defaults then
    apply, and findings name mailboxes and addresses unless --userdomains names the accounts.
    A file that cannot be read to its end (a truncated .gz) is reported; the lines before the
    damage and the other files are still checked, and the command exits 8 (unreadable_input),
    as it does for a file that does not exist."""
    from csm.scan import logs  # noqa: PLC0415

    app = obj.app(optional_config=True)
    check = logs.LogCheck(
        app.mail_context(userdomains), since=times.since(since), year=app.config.mail.log_year
    )
    progress = _progress() if not as_json and sys.stderr.isatty() else None
    if store:
        with app.incidents() as service:
            check.incidents = service
            report = check.run(list(paths), source, progress)  # type: ignore[arg-type]
    else:
        report = check.run(list(paths), source, progress)  # type: ignore[arg-type]
    if progress is not None:
        click.echo("\r\033[K", nl=False, err=True)  # the progress line is cleared
    if as_json:
        emit_json(report)
    else:
        _render(report)
    if report.errors:  # what could be read was checked (and stored); the rest was not
        click.get_current_context().exit(UnreadableInputError.kind.exit_code)


def _progress() -> Any:
    def show(lines: int) -> None:
        click.echo(f"\r  {lines:,} lines…", nl=False, err=True)

    return show


def _render(report: Any) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    from csm.cli.incidents_view import safe, when  # noqa: PLC0415

    console = Console(highlight=False, width=None if Console().is_terminal else 200)
    files = Table(
        "FILE", "SOURCE", "LINES", "PARSED", "SKIPPED", "FINDINGS", box=None, header_style="bold"
    )
    for f in report.files:
        files.add_row(
            safe(f.path),
            f.source,
            f"{f.lines:,}",
            f"{f.parsed:,}",
            f"{f.skipped:,}",
            str(f.findings),
        )
    console.print(files)
    for error in report.errors:
        note = " (the lines before the damage were checked)"
        console.print(Text.assemble(("unreadable: ", "bold red"), safe(error), note))
    for check, count in report.by_check.items():
        console.print(f"  {check}: {count}")
    found = Table(
        "TIME",
        "CHECK",
        "SEVERITY",
        "ACCOUNT",
        "MAILBOX/IP",
        "MESSAGE",
        box=None,
        header_style="bold",
    )
    for f in report.findings[:SHOWN]:
        found.add_row(
            when(f.time),
            f.check,
            f.severity.value,
            safe(f.account),
            safe(f.mailbox or f.remote_ip),
            safe(f.message),
        )
    console.print(found)
    if len(report.findings) > SHOWN:
        console.print(f"… and {len(report.findings) - SHOWN} more (use --json)")
    if report.recorded is not None:
        r = report.recorded
        again = f", {r.repeated} recorded before (left out)" if r.repeated else ""
        console.print(
            f"recorded: {r.created} incident(s) created, {r.merged} merged, {r.pending} pending"
            + again
        )
