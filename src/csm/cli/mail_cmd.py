"""``csm mail``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from csm.cli import times
from csm.cli.context import CliContext
from csm.cli.output import emit_json, emit_list, json_option
from csm.operations import mail as ops
from csm.operations.base import perform

if TYPE_CHECKING:
    from csm.scan.timeline import MailTimeline


@click.group(
    short_help="Stop and resume all mail; hold an account's outgoing mail; a mailbox's day."
)
def mail() -> None:
    """Mail: the server-wide emergency stop and its way back (stop, resume, emergency status),
    per-account holds, and what one mailbox or account did, from the logs."""


@mail.command("timeline")
@click.argument("subject", metavar="MAILBOX|ACCOUNT")
@click.option("--since", help="Start here: a duration (24h, 7d) or an RFC 3339 time.")
@click.option(
    "--log",
    "logs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A log to read (repeatable); default: the configured mainlog and maillog.",
)
@click.option(
    "--userdomains",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A 'domain: user' file (a copy of /etc/userdomains) naming the accounts.",
)
@json_option
@click.pass_obj
def timeline(
    obj: CliContext,
    /,
    subject: str,
    since: str | None,
    logs: tuple[Path, ...],
    userdomains: Path | None,
    as_json: bool,
) -> None:
    """Failed logins, new networks, bursts, bounces, deferrals and holds, hour by hour.

    Works without a config file (built-in defaults; an account then needs --userdomains)."""
    app = obj.app(optional_config=True)
    result = app.mail_timeline(subject, logs, since=times.since(since), userdomains=userdomains)
    if as_json:
        emit_json(result)
    else:
        _render(result)


def _render(result: MailTimeline) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from csm.cli.incidents_view import safe, when  # noqa: PLC0415

    console = Console(highlight=False, width=None if Console().is_terminal else 200)
    hours = Table(
        "HOUR",
        "SENT",
        "LOGINS",
        "FAILED LOGINS",
        "BOUNCES",
        "DEFERRALS",
        box=None,
        header_style="bold",
    )
    for h in result.hours:
        hours.add_row(
            when(h.hour),
            str(h.sent),
            str(h.logins),
            str(h.failed_logins),
            str(h.bounces),
            str(h.deferrals),
        )
    console.print(f"[bold]{len(result.hours)} hour(s) of mail for[/] ", safe(result.subject))
    console.print(hours)
    events = Table("TIME", "WHAT", "IP", "DETAIL", box=None, header_style="bold")
    for e in result.events:
        events.add_row(when(e.time), e.kind, e.ip, safe(e.detail))
    console.print(events)


@mail.command("hold")
@click.argument("account")
@click.option("--reason", default="", help="Why (recorded).")
@json_option
@click.pass_obj
def hold(obj: CliContext, /, account: str, reason: str, as_json: bool) -> None:
    """Hold the account's outgoing mail: its queued messages frozen, new ones held (cPanel:
    whmapi1 hold_outgoing_email; other Exim hosts: CSM's held-senders list)."""
    result = perform(obj.app(), ops.MailHold(account, reason))
    if as_json:
        emit_json(result)
    else:
        click.echo(
            f"{account}: outgoing mail held ({result.method});"
            f" {len(result.frozen.done)} queued message(s) frozen"
        )


@mail.command("release")
@click.argument("account")
@click.option(
    "--approve",
    default="",
    help="Release although the credentials are not rotated (the reason is recorded).",
)
@json_option
@click.pass_obj
def release(obj: CliContext, /, account: str, approve: str, as_json: bool) -> None:
    """Release the account's hold (through the credentials gate); frozen messages stay frozen
    until reviewed (csm queue review --account ACCOUNT)."""
    result = perform(obj.app(), ops.MailRelease(account, approve))
    if as_json:
        emit_json(result)
    else:
        click.echo(
            f"{account}: hold released; {result.still_frozen} message(s) stay frozen"
            f" until reviewed: csm queue review --account {account}"
        )


@mail.command("holds")
@json_option
@click.pass_obj
def holds_(obj: CliContext, /, as_json: bool) -> None:
    """The accounts whose outgoing mail is held."""
    with obj.app().holds() as holds:
        found = holds.active()
    if as_json:
        emit_list(found)
        return
    for h in found:
        click.echo(
            f"{h.account} held since {h.at:%Y-%m-%d %H:%M} by {h.who} ({h.method},"
            f" {h.frozen} frozen): {h.reason}"
        )
    if not found:
        click.echo("no holds")


def _emergency_commands() -> None:
    from csm.cli import emergency_cmd  # noqa: PLC0415

    for command in (emergency_cmd.stop, emergency_cmd.resume, emergency_cmd.emergency):
        mail.add_command(command)


_emergency_commands()
