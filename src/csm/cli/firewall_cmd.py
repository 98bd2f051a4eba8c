"""``csm firewall block|unblock|list``: IP blocks in CSM's nftables table (``inet csm``)."""

from __future__ import annotations

from datetime import timedelta

import click

from csm import duration
from csm.cli.context import CliContext
from csm.cli.output import emit_json, emit_list, json_option
from csm.errors import UsageError
from csm.operations import emergency as ops
from csm.operations.base import perform


@click.group(short_help="Block and unblock IPs and networks (nftables, table inet csm).")
def firewall() -> None:
    """IP blocks with timeouts in CSM's own nftables table; previewed unless --apply; the
    allowed (firewall.allow, mail.infra_ips) are never blocked; every change is audited."""


@firewall.command("block")
@click.argument("target", metavar="IP|CIDR")
@click.option("--reason", required=True, help="Why (recorded).")
@click.option(
    "--for",
    "lasting",
    metavar="DURATION",
    help="How long (24h, 7d; `0`: until unblocked). Default: firewall.block_for.",
)
@click.option("--apply", is_flag=True, help="Block now; without it, a preview.")
@json_option
@click.pass_obj
def block(
    obj: CliContext, /, target: str, reason: str, lasting: str | None, apply: bool, as_json: bool
) -> None:
    """Drop every packet from IP or CIDR for a while."""
    operation = ops.FirewallBlock(target, reason, _lasting(lasting), apply)
    result = perform(obj.app(), operation, here=not apply)
    if as_json:
        emit_json(result)
        return
    seconds = result.expires_in
    until = f"for {duration.render(timedelta(seconds=seconds))}" if seconds else "until unblocked"
    verb = "blocked" if result.applied else "would be blocked"
    click.echo(f"{result.network} {verb} {until}")
    if result.replaced:
        click.echo(f"(it replaces {result.replaced} earlier block(s) of it)")
    if not result.applied:
        click.echo("preview: nothing changed. Block: add --apply")


@firewall.command("unblock")
@click.argument("target", metavar="IP|CIDR")
@click.option("--apply", is_flag=True, help="Unblock now; without it, a preview.")
@json_option
@click.pass_obj
def unblock(obj: CliContext, /, target: str, apply: bool, as_json: bool) -> None:
    """End a block (exactly this address or network, as blocked)."""
    result = perform(obj.app(), ops.FirewallUnblock(target, apply), here=not apply)
    if as_json:
        emit_json(result)
        return
    verb = "unblocked" if result.applied else "would be unblocked"
    click.echo(f"{result.network} {verb}")
    if not result.applied:
        click.echo("preview: nothing changed. Unblock: add --apply")


@firewall.command("list")
@click.option("--all", "history", is_flag=True, help="Every record: ended and dry-run ones too.")
@json_option
@click.pass_obj
def list_(obj: CliContext, /, history: bool, as_json: bool) -> None:
    """The blocks in force: network, why, by whom, until when, and whether nftables has it."""
    with obj.app().firewall() as service:
        found = service.listed(history=history)
    if as_json:
        emit_list(found)
        return
    for item in found:
        b = item.block
        until = f"until {b.expires_at:%Y-%m-%d %H:%M}" if b.expires_at else "no end"
        state = "in nftables" if item.in_table else "NOT in nftables"
        if b.dry_run:
            state = "dry-run: not blocked"
        elif b.removed_at:
            state = f"ended {b.removed_at:%Y-%m-%d %H:%M} ({b.removed_by})"
        click.echo(f"{b.network:<20} {until}  {b.source} by {b.who}: {b.reason!r}  [{state}]")
    if not found:
        click.echo("no blocks")


def _lasting(text: str | None) -> timedelta | None:
    if text is None:
        return None
    if text.strip() == "0":
        return timedelta(0)
    try:
        return duration.parse(text)
    except ValueError as exc:
        raise UsageError(f"--for: {exc}") from None
