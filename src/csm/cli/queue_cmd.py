"""``csm queue``: count, summary, list and show (read-only), review and decide, and the
actions on reviewed messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from csm.cli import queue_view, times
from csm.cli.context import CliContext
from csm.cli.output import emit_json, emit_list, json_option
from csm.mailqueue import views
from csm.operations import mail
from csm.operations.base import perform

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from csm.mailqueue.model import SpoolProblem
    from csm.mailqueue.repo import Kept
    from csm.mailqueue.review import Verdict


@click.group("queue", short_help="The mail queue: views, review, decisions, actions.")
def queue() -> None:
    """The mail queue (Exim's spool, or Citadel's outbound queue room): read-only views,
    review, decisions, and actions on reviewed ids."""


@queue.command("count")
@json_option
@click.pass_obj
def count(obj: CliContext, /, as_json: bool) -> None:
    """How many messages are queued (as `exim -bpc`; on Citadel: jobs)."""
    with obj.app().mail_queue() as service:
        total = service.count()
    if as_json:
        emit_json({"count": total})
    else:
        click.echo(total)


@queue.command("summary")
@click.option(
    "--by",
    "by",
    type=click.Choice(views.BYS),
    default="domain",
    show_default=True,
    help="Group by recipient domain (as exiqsumm), sender, account, auth or script.",
)
@json_option
@click.pass_obj
def summary(obj: CliContext, /, by: views.By, as_json: bool) -> None:
    """Messages, volume and ages per recipient domain, sender, account, login or PHP script."""
    with obj.app().mail_queue() as service:
        result = service.summary(by)
    if as_json:
        emit_json(result)
    else:
        _problems(result.problems)
        click.echo("\n".join(queue_view.summary_lines(result, service.now())))


@queue.command("list")
@click.option("--account", help="Only this account's messages.")
@click.option("--sender", help="Only this envelope sender's messages.")
@click.option("--frozen", is_flag=True, help="Only frozen messages.")
@click.option("--older-than", help="Only messages queued longer than this (e.g. 2h, 3d).")
@json_option
@click.pass_obj
def list_(
    obj: CliContext,
    /,
    account: str | None,
    sender: str | None,
    frozen: bool,
    older_than: str | None,
    as_json: bool,
) -> None:
    """The queued messages (as `exim -bp`), with their accounts and subjects."""
    older = int(times.length("--older-than", older_than).total_seconds()) if older_than else None
    with obj.app().mail_queue() as service:
        read = service.list(views.Filter(account, sender, frozen, older))
        now = service.now()
    found = read.messages
    if as_json:
        emit_list(found, read.problems)
        return
    _problems(read.problems)
    for m in found:
        state = " *** frozen ***" if m.frozen else ""
        user = f" ({m.local_user})" if m.local_user and m.local_user != "root" else ""
        head = f"{views.age(now - m.received):>3} {views.size(m.size):>5} {m.id}{user}"
        click.echo(f"{head} <{m.sender}>{state}  [{m.account or '-'}] {m.header('Subject')!r}")
        for recipient in m.recipients:
            click.echo(f"          {recipient}")


@queue.command("show")
@click.argument("msgid")
@click.option("--body", is_flag=True, help="Also print the body (recorded in the audit log).")
@json_option
@click.pass_obj
def show(obj: CliContext, /, msgid: str, body: bool, as_json: bool) -> None:
    """A message's header file as `exim -Mvh` prints it (on Citadel: the delivery
    instructions and the headers); the body only with --body (recorded)."""
    app = obj.app()
    with app.mail_queue() as service:
        shown = service.show(msgid, body=body, who=app.operator)
    if as_json:
        emit_json(shown)
        return
    click.echo(f"account: {shown.message.account or '-'} ({shown.message.account_source or '-'})")
    click.echo(shown.header_file, nl=False)
    if shown.body is not None:
        click.echo("\n--- body" + (" (truncated)" if shown.body_truncated else "") + " ---")
        click.echo(shown.body, nl=False)


@queue.command("review")
@click.option("--account", help="Only this account's messages.")
@click.option("--no-record", is_flag=True, help="Do not record the groups as proposals.")
@click.option("--brief", is_flag=True, help="Per group: the count and the commonest reasons.")
@json_option
@click.pass_obj
def review_(
    obj: CliContext, /, account: str | None, no_record: bool, brief: bool, as_json: bool
) -> None:
    """Group every message (or the account's): safe_to_remove, needs_review, do_not_touch,
    each with its reasons; the groups are recorded as proposals to accept with `decide`."""
    result = perform(obj.app(), mail.QueueReview(account, not no_record), here=no_record)
    if as_json:
        emit_json(result)
        return
    for verdict in [] if brief else result.verdicts:
        state = " frozen" if verdict.frozen else ""
        click.echo(
            f"{verdict.group:<15} {verdict.id} [{verdict.account or '-'}]{state}"
            f" <{verdict.sender}> {verdict.subject[:60]!r}"
        )
        for reason in verdict.reasons:
            click.echo(f"{'':<16}- {reason}")
    if brief:
        _brief(result.verdicts)
    counts = ", ".join(f"{g}: {n}" for g, n in result.groups.items())
    click.echo(f"review {result.id or '(not recorded)'}: {counts}")
    if result.id and result.groups.get("safe_to_remove"):  # never a hint for an empty group
        click.echo(
            f"accept a group: csm queue decide --accept-review {result.id}"
            ' --group safe_to_remove --note "…"'
        )


@queue.command("decide")
@click.argument("args", nargs=-1)
@click.option("--note", default="", help="Why (required for ids; recorded).")
@click.option(
    "--review",
    "on_review",
    default="",
    help="Decide the ids on this recorded review (default: the newest covering each).",
)
@click.option(
    "--approve",
    default="",
    help="Decide ids that no recorded review covers anyway (the reason is recorded).",
)
@click.option("--accept-review", "review_id", help="Decide a recorded review's group.")
@click.option("--group", help="The review group: safe_to_remove, do_not_touch, needs_review.")
@click.option(
    "--as",
    "as_",
    type=click.Choice(["remove", "keep", "release"]),
    help="The decision for the group (needs_review has no proposal).",
)
@json_option
@click.pass_obj
def decide(  # noqa: PLR0913, PLR0917 - one parameter per command-line option
    obj: CliContext,
    /,
    args: tuple[str, ...],
    note: str,
    on_review: str,
    approve: str,
    review_id: str | None,
    group: str | None,
    as_: str | None,
    as_json: bool,
) -> None:
    """Record decisions on reviewed ids: `decide ID… remove|keep|release --note TEXT`, each
    on the newest recorded review that covers it (or on --review's); ids in no review only
    with --approve, recorded as decided without review.  Or a review's group:
    `decide --accept-review REVIEW --group GROUP [--as DECISION]`."""
    operation: mail.QueueAccept | mail.QueueDecide
    if review_id:
        if args or not group or on_review or approve:
            raise click.UsageError("--accept-review takes --group (no ids, --review or --approve)")
        operation = mail.QueueAccept(review_id, group, as_, note)
    else:
        if len(args) < 2:
            raise click.UsageError("csm queue decide ID… remove|keep|release --note TEXT")
        operation = mail.QueueDecide(args[:-1], args[-1], note, on_review, approve)
    result = perform(obj.app(), operation)
    if as_json:
        emit_json(result)
        return
    on = f" on review {result.review}" if result.review else ""
    click.echo(f"{result.decision}: {len(result.ids)} message(s) recorded{on}")
    if result.approved:
        click.echo(
            f"{len(result.approved)} of them decided without review, approved: {result.approval}"
        )


def _act(
    obj: CliContext, action: mail.Action, ids: tuple[str, ...], approve: str, as_json: bool
) -> None:
    outcome = perform(obj.app(), mail.QueueAction(action, ids, approve))
    if as_json:
        emit_json(outcome)
    else:
        click.echo(
            f"{action}: {len(outcome.done)} done, {len(outcome.gone)} already gone,"
            f" {len(outcome.failed)} failed"
        )
        for msgid, why in outcome.failed.items():
            click.echo(f"  {msgid}: {why}", err=True)
    if outcome.failed:
        click.get_current_context().exit(1)


APPROVE = click.option(
    "--approve",
    default="",
    help="Approve this action although the account's"
    " credentials are not rotated (the reason is recorded).",
)


@queue.command("remove")
@click.argument("ids", nargs=-1, required=True)
@APPROVE
@json_option
@click.pass_obj
def remove(obj: CliContext, /, ids: tuple[str, ...], approve: str, as_json: bool) -> None:
    """Remove messages decided `remove`: copied to the quarantine first, then `exim -Mrm`."""
    _act(obj, "remove", ids, approve, as_json)


@queue.command("thaw")
@click.argument("ids", nargs=-1, required=True)
@APPROVE
@json_option
@click.pass_obj
def thaw(obj: CliContext, /, ids: tuple[str, ...], approve: str, as_json: bool) -> None:
    """Thaw frozen messages decided `release` (`exim -Mt`)."""
    _act(obj, "thaw", ids, approve, as_json)


@queue.command("release")
@click.argument("ids", nargs=-1, required=True)
@APPROVE
@json_option
@click.pass_obj
def release(obj: CliContext, /, ids: tuple[str, ...], approve: str, as_json: bool) -> None:
    """Thaw messages decided `release` and ask Exim to deliver them now."""
    _act(obj, "release", ids, approve, as_json)


@queue.command("freeze")
@click.argument("ids", nargs=-1)
@click.option("--account", help="Every queued message of this account.")
@click.option("--sender", help="Every queued message of this envelope sender.")
@json_option
@click.pass_obj
def freeze(
    obj: CliContext, /, ids: tuple[str, ...], account: str | None, sender: str | None, as_json: bool
) -> None:
    """Freeze messages (containment: always allowed), by id, account or sender."""
    if bool(ids) == bool(account or sender):
        raise click.UsageError("csm queue freeze ID… | --account A | --sender S")
    if not ids:
        with obj.app().mail_queue() as service:
            ids = tuple(m.id for m in service.list(views.Filter(account, sender)).messages)
        if not ids:
            raise click.UsageError("no queued message matches")
    _act(obj, "freeze", ids, "", as_json)


@queue.command("restore")
@click.argument("ids", nargs=-1, required=True)
@json_option
@click.pass_obj
def restore(obj: CliContext, /, ids: tuple[str, ...], as_json: bool) -> None:
    """Put removed messages back into the spool, intact (same id, owner and mode)."""
    _act(obj, "restore", ids, "", as_json)


@queue.group("quarantine")
def quarantine() -> None:
    """The messages `csm queue remove` took out of the spool, kept and restorable."""


@quarantine.command("list")
@json_option
@click.pass_obj
def quarantine_list(obj: CliContext, /, as_json: bool) -> None:
    """The removed messages kept in the quarantine, restorable (`csm queue restore ID`)."""
    with obj.app().queue_work() as (_, _decisions, actions):
        kept = actions.quarantined.list()
    if as_json:
        emit_list([message_id_json(k) for k in kept])
        return
    for item in kept:  # sender and subject are the sender's words: shown quoted, escaped
        state = f"restored {item.restored_at:%Y-%m-%d %H:%M}" if item.restored_at else "kept"
        removed = f"removed {item.removed_at:%Y-%m-%d %H:%M} by {item.who}"
        click.echo(
            f"{item.msgid} [{item.account or '-'}] from {item.sender!r} subject"
            f" {item.subject[:60]!r} {removed}: {state}"
        )
    if not kept:
        click.echo("nothing removed: the queue quarantine (the trash) is empty")


@quarantine.command("show")
@click.argument("msgid")
@click.option("--body", is_flag=True, help="Also print the body (recorded in the audit log).")
@json_option
@click.pass_obj
def quarantine_show(obj: CliContext, /, msgid: str, body: bool, as_json: bool) -> None:
    """A removed message's header file as it was in the spool; the body only with --body."""
    app = obj.app()
    with app.queue_work() as (_, _decisions, actions):
        shown = actions.quarantined.show(msgid, body=body, who=app.operator)
    if as_json:
        emit_json(shown)
        return
    kept = shown.kept
    since = " (restored since)" if kept.restored_at else ""
    click.echo(
        f"removed {kept.removed_at:%Y-%m-%d %H:%M} by {kept.who} [{kept.account or '-'}]{since}"
    )
    click.echo(shown.header_file, nl=False)
    if shown.body is not None:
        click.echo("\n--- body" + (" (truncated)" if shown.body_truncated else "") + " ---")
        click.echo(shown.body, nl=False)


def message_id_json(kept: Kept) -> dict[str, Any]:
    """A kept message as JSON, its id named ``id`` as everywhere else."""
    from csm.jsonio import to_jsonable  # noqa: PLC0415

    fields = dict(to_jsonable(kept))
    return {"id": fields.pop("msgid"), **fields}


def _brief(verdicts: Sequence[Verdict]) -> None:
    from collections import Counter  # noqa: PLC0415

    for group in ("safe_to_remove", "needs_review", "do_not_touch"):
        members = [v for v in verdicts if v.group == group]
        reasons = Counter(r for v in members for r in v.reasons)
        click.echo(f"{group}: {len(members)}")
        for reason, count in reasons.most_common(4):
            click.echo(f"  {count:>5}  {reason}")


def _problems(problems: Iterable[SpoolProblem]) -> None:
    for line in queue_view.problem_lines(problems):
        click.echo(line, err=True)


def _trash_commands() -> None:
    from csm.cli.trash_cmd import trash  # noqa: PLC0415

    queue.add_command(trash)


_trash_commands()
