"""``csm creds``: plan, status, defer (and rotate)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import TypeAdapter

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.credentials.model import Outcome, Rotation
from csm.jsonio import to_jsonable
from csm.operations.base import perform
from csm.operations.credentials import PROGRESS, SECRET, SETTLED, Defer, Rotate

if TYPE_CHECKING:
    from csm.cli.accounts_view import ShownSecrets


@click.group(short_help="Credentials: plan, rotate, defer, status.")
def creds() -> None:
    """Credentials of an account: what to rotate, rotation, deferral, status."""


@creds.command("plan")
@click.argument("account")
@json_option
@click.pass_obj
def plan(obj: CliContext, /, account: str, as_json: bool) -> None:
    """Every credential of the account to rotate, flagged ones first, with its state."""
    with obj.app().credentials() as service:
        found = service.plan(account)
    if as_json:
        emit_json(found)
    else:
        from csm.cli import accounts_view as view  # noqa: PLC0415

        view.plan(found)


@creds.command("status")
@click.argument("account")
@json_option
@click.pass_obj
def status(obj: CliContext, /, account: str, as_json: bool) -> None:
    """Per item: rotated, deferred or pending, with times; and what the close guard and the
    mail queue still wait for."""
    with obj.app().credentials() as service:
        found = service.status(account)
    if as_json:
        emit_json({**to_jsonable(found), "gate_met": found.gate_met})
    else:
        from csm.cli import accounts_view as view  # noqa: PLC0415

        view.status(found)


@creds.command("defer")
@click.argument("account")
@click.argument("items", nargs=-1)
@click.option("--reason", required=True, help="Why rotation is deferred (recorded).")
@json_option
@click.pass_obj
def defer(
    obj: CliContext, /, account: str, items: tuple[str, ...], reason: str, as_json: bool
) -> None:
    """Defer rotation of ITEMS (every item when none is given) for a documented reason."""
    found = perform(obj.app(), Defer(account, items, reason))
    if as_json:
        emit_json(found)
    else:
        from csm.cli import accounts_view as view  # noqa: PLC0415

        view.deferral(found)


@creds.command("rotate")
@click.argument("account")
@click.argument("items", nargs=-1)
@click.option("--all", "all_items", is_flag=True, help="Every item of the plan.")
@click.option("--dry-run", is_flag=True, help="Show what would rotate, change nothing.")
@click.option(
    "--secrets-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write each new password to this new file (0600, never overwritten) before it is set,"
    " instead of printing it.",
)
@click.option("--show-secrets", is_flag=True, help="Include the new passwords in --json.")
@json_option
@click.pass_obj
def rotate(
    obj: CliContext, /, account: str, items: tuple[str, ...], as_json: bool, **options: Any
) -> None:
    """Rotate ITEMS (or --all): new passwords through cPanel's APIs, the mailbox files, the
    database and WordPress; new wp-config salts.  Each success is recorded at once.

    Every new password is kept before it is set: written and synced to --secrets-out, or
    printed here; --json needs --secrets-out or --show-secrets."""
    from csm.cli import accounts_view as view  # noqa: PLC0415

    show_secrets, secrets_out = options["show_secrets"], options["secrets_out"]
    shown = None if as_json or secrets_out else view.ShownSecrets()
    operation = Rotate(
        account,
        items,
        options["all_items"],
        options["dry_run"],
        secrets_out.absolute() if secrets_out else None,  # the daemon may write it
        show_secrets,
        show=shown is not None,
        progress=not (as_json or options["dry_run"]),
    )
    done = perform(obj.app(), operation, RotationShown(shown))
    if as_json:
        emit_json(done if show_secrets else redacted(done))
    else:
        view.rotation(done, shown_already=shown is not None)
    if done.failed:
        click.get_current_context().exit(1)


class RotationShown:
    """What a rotation tells on the way: each new password (shown before it is set), how
    each kept one settled, and each item as it is done (on stderr)."""

    def __init__(self, shown: ShownSecrets | None) -> None:
        self.shown = shown
        self.outcome = TypeAdapter(Outcome)

    def __call__(self, name: str, data: Any) -> None:
        if name == SECRET and self.shown is not None:
            self.shown.keep(str(data["item"]), str(data["secret"]))
        elif name == SETTLED and self.shown is not None:
            self.shown.settle(self.outcome.validate_python(data))
        elif name == PROGRESS:
            outcome = self.outcome.validate_python(data)
            state = "skipped" if outcome.skipped else "ok" if outcome.ok else "FAILED"
            click.echo(f"  {outcome.item}: {state}", err=True)


def redacted(done: Rotation) -> Rotation:
    """The result without the new passwords (they are shown once, on request)."""
    outcomes = tuple(
        dataclasses.replace(o, secret="<redacted>" if o.secret else "") for o in done.outcomes
    )
    return dataclasses.replace(done, outcomes=outcomes)
