"""``csm queue trash``: matching reviewed messages moved to the queue quarantine (restorable),
and the trash listed and shown (bodies only with ``--body``, recorded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.mailqueue.trash import Selection
from csm.operations import emergency as ops
from csm.operations.base import perform

if TYPE_CHECKING:
    from csm.mailqueue.trash import TrashResult

DEFAULT_LIMIT = 1000


@click.group("trash", invoke_without_command=True)
@click.option("--sender", help="Every reviewed queued message of this envelope sender.")
@click.option("--account", help="… of this hosting account.")
@click.option("--auth", help="… submitted with this SMTP login (csm queue summary --by auth).")
@click.option("--all-frozen", is_flag=True, help="… that is frozen.")
@click.option("--all", "everything", is_flag=True, help="Every reviewed queued message.")
@click.option(
    "--limit",
    type=int,
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many (oldest first); rerun for more.",
)
@click.option("--apply", is_flag=True, help="Move them (with --confirm); without it, a preview.")
@click.option("--confirm", is_flag=True, help="Confirm --apply.")
@click.option(
    "--approve",
    default="",
    help="Move them although the account's credentials are not rotated (the reason is recorded).",
)
@json_option
@click.pass_context
def trash(  # noqa: PLR0913, PLR0917 - one parameter per command-line option
    ctx: click.Context,
    sender: str | None,
    account: str | None,
    auth: str | None,
    all_frozen: bool,
    everything: bool,
    limit: int,
    apply: bool,
    confirm: bool,
    approve: str,
    as_json: bool,
) -> None:
    """Move matching messages to the queue quarantine: only messages a recorded review covers
    (csm queue review) and no `keep` decision protects; restorable with csm queue restore ID.
    Preview first; then --apply --confirm. Subcommands: list, show."""
    if ctx.invoked_subcommand is not None:
        return
    if apply and not confirm:
        raise click.UsageError("--apply moves messages: add --confirm (preview without --apply)")
    obj: CliContext = ctx.obj
    selection = Selection(sender, account, auth, all_frozen, everything)
    operation = ops.QueueTrash(selection, limit, apply, approve)
    result = perform(obj.app(), operation, here=not apply)
    if as_json:
        emit_json(result)
    else:
        _render(result)
    if result.outcome is not None and result.outcome.failed:
        ctx.exit(1)


def _render(result: TrashResult) -> None:
    click.echo(f"{result.selection}: {result.matched} queued message(s) match")
    verb = "moved to the trash" if result.applied else "to move to the trash"
    done = len(result.outcome.done) if result.outcome else len(result.ids)
    click.echo(f"{done} {verb}")
    for account, count in result.by_account.items():
        click.echo(f"  {count:>6}  {account or '(no account)'}")
    if result.unreviewed:
        click.echo(
            f"{len(result.unreviewed)} not in a recorded review: left queued (csm queue review)"
        )
    if result.kept:
        click.echo(f"{len(result.kept)} decided `keep`: left queued")
    if result.over_limit:
        click.echo(f"{result.over_limit} more beyond --limit: rerun for them")
    if result.waiting and not result.applied:
        click.echo(
            f"credentials not rotated or deferred for {', '.join(result.waiting)}: rotate first"
            ' (csm creds rotate ACCOUNT --all) or --approve "reason"'
        )
    if result.outcome is not None:
        for msgid, why in result.outcome.failed.items():
            click.echo(f"  not moved: {msgid}: {why}", err=True)
        click.echo("list: csm queue trash list; bring one back: csm queue restore ID")
    elif result.ids:
        click.echo("preview: nothing changed. Move them: add --apply --confirm")


@trash.command("list")
@json_option
@click.pass_context
def trash_list(ctx: click.Context, /, as_json: bool) -> None:
    """The trashed (and otherwise removed) messages: envelope and subject only."""
    from csm.cli.queue_cmd import quarantine_list  # noqa: PLC0415

    ctx.invoke(quarantine_list, as_json=as_json)


@trash.command("show")
@click.argument("msgid")
@click.option("--body", is_flag=True, help="Also print the body (recorded in the audit log).")
@json_option
@click.pass_context
def trash_show(ctx: click.Context, /, msgid: str, body: bool, as_json: bool) -> None:
    """A trashed message's envelope and headers as they were queued; the body only with --body."""
    from csm.cli.queue_cmd import quarantine_show  # noqa: PLC0415

    ctx.invoke(quarantine_show, msgid=msgid, body=body, as_json=as_json)
