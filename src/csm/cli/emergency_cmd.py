"""``csm mail stop|resume outbound|inbound`` and ``csm mail emergency status``."""

from __future__ import annotations

import click

from csm.cli import emergency_view as view
from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.operations import emergency as ops
from csm.operations.base import perform

DIRECTION = click.Choice(["outbound", "inbound"])


@click.command("stop")
@click.argument("direction", type=DIRECTION)
@click.option("--reason", default="", help="Why (recorded with who and when; needed to apply).")
@click.option("--apply", is_flag=True, help="Stop now; without it, a preview.")
@click.option(
    "--firewall",
    is_flag=True,
    help="inbound: also close the SMTP ports (mail.emergency.smtp_ports) in CSM's nftables table.",
)
@click.option("--incident", help="Note the stop on this incident (default: the active mail ones).")
@json_option
@click.pass_obj
def stop(  # noqa: PLR0913, PLR0917 - one parameter per command-line option
    obj: CliContext,
    /,
    direction: ops.Direction,
    reason: str,
    apply: bool,
    firewall: bool,
    incident: str | None,
    as_json: bool,
) -> None:
    """Stop all outbound mail (queued messages frozen and recorded, new ones accepted and
    frozen) or inbound mail (SMTP answers 421: senders retry later). Outbound first."""
    operation = ops.MailStop(direction, reason, apply, firewall, incident)
    result = perform(obj.app(), operation, here=not apply)
    if as_json:
        emit_json(result)
    else:
        view.stopped(result)


@click.command("resume")
@click.argument("direction", type=DIRECTION)
@click.option("--apply", is_flag=True, help="Resume now; without it, a preview.")
@click.option(
    "--approve",
    default="",
    help="outbound: thaw every recorded message, also of accounts whose credentials are not"
    " rotated (the reason is recorded).",
)
@json_option
@click.pass_obj
def resume(
    obj: CliContext, /, direction: ops.Direction, apply: bool, approve: str, as_json: bool
) -> None:
    """Undo exactly what the stop did: outbound thaws the messages it froze whose account's
    credentials were rotated or deferred (the rest stay frozen, listed); inbound reopens SMTP."""
    result = perform(obj.app(), ops.MailResume(direction, apply, approve), here=not apply)
    if as_json:
        emit_json(result)
    else:
        view.resumed(result)


@click.group("emergency")
def emergency() -> None:
    """The server-wide emergency stop (csm mail stop|resume)."""


@emergency.command("status")
@json_option
@click.pass_obj
def status(obj: CliContext, /, as_json: bool) -> None:
    """What is stopped, since when, by whom and why, and the command that undoes it.
    Exits 1 while mail is stopped or a stop was interrupted."""
    with obj.app().emergency() as service:
        found = service.status()
    if as_json:
        emit_json(found)
    else:
        view.status(found)
    if not found.clean:
        click.get_current_context().exit(1)
