"""``csm scan`` and ``csm db``."""

from __future__ import annotations

from typing import Any

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, emit_list, json_option
from csm.control import Listener
from csm.operations.base import perform
from csm.operations.response import DropObject, RemoveUser, RestoreObject
from csm.operations.scans import SCANNING, ScanAccounts

CHECKS = "files,database,wordpress"


@click.command(
    "scan", short_help="Scan an account's files (webshells) and databases (triggers, rogue admins)."
)
@click.argument("account", required=False)
@click.option("--all", "all_accounts", is_flag=True, help="Every account, in turn.")
@click.option("--checks", default=CHECKS, show_default=True, help="Comma-separated checks.")
@json_option
@click.pass_obj
def scan(
    obj: CliContext, /, account: str | None, all_accounts: bool, checks: str, as_json: bool
) -> None:
    """Scan an account (or --all): files (YARA-X and path rules), database objects, and
    WordPress administrators and site URLs.  Findings go to the incidents; a clean, complete
    scan is what the close guard's last condition waits for."""
    if bool(account) == all_accounts:
        raise click.UsageError("give an ACCOUNT or --all")
    wanted = tuple(c.strip() for c in checks.split(",") if c.strip())
    operation = ScanAccounts(() if all_accounts else (str(account),), wanted)
    done = perform(obj.app(), operation, None if as_json else _scanning(checks))
    if as_json:
        if all_accounts:
            emit_list(done)
        else:
            emit_json(done[0])
    else:
        from csm.cli import scan_view as view  # noqa: PLC0415

        view.scans(done)
        if all_accounts:
            view.summary(done)
    if any(not s.complete for s in done):
        click.get_current_context().exit(1)


def _scanning(checks: str) -> Listener:
    """Progress on stderr (the result stays on stdout)."""

    def heard(name: str, data: Any) -> None:
        if name == SCANNING:
            account, number, total = data["account"], data["number"], data["total"]
            click.echo(f"scanning {account} ({number}/{total}): {checks}…", err=True)

    return heard


@click.group(
    short_help="Database objects and WordPress users: list, drop or remove (kept), restore."
)
def db() -> None:
    """Database objects of an account's WordPress schemas."""


@db.command("objects")
@click.argument("account")
@json_option
@click.pass_obj
def objects(obj: CliContext, /, account: str, as_json: bool) -> None:
    """Triggers, events, procedures and functions, with their verdicts."""
    with obj.app().scans() as service:
        found = service.objects(account)
    if as_json:
        emit_list(found)
    else:
        from csm.cli import scan_view as view  # noqa: PLC0415

        view.objects(found)


@db.command("drop-object")
@click.argument("account")
@click.argument("schema")
@click.argument("kind", type=click.Choice(["trigger", "event", "procedure", "function"]))
@click.argument("name")
@click.option("--preview", is_flag=True, help="Show the definition to be kept; drop nothing.")
@json_option
@click.pass_obj
def drop_object(obj: CliContext, /, as_json: bool, **target: Any) -> None:
    """Drop a database object after storing its definition (refused when that fails)."""
    preview, name = target["preview"], target.pop("name")
    done = perform(obj.app(), DropObject(**target, object=name), here=preview)
    if as_json:
        emit_json(done)
    else:
        verb = "would drop" if preview else f"dropped (restore: csm db restore-object {done.id})"
        click.echo(f"{done.kind} {done.schema}.{done.name} {verb}\n{done.definition}")


@db.command("remove-user")
@click.argument("account")
@click.argument("schema")
@click.argument("login")
@click.option("--preview", is_flag=True, help="Show the rows to be kept; remove nothing.")
@json_option
@click.pass_obj
def remove_user(obj: CliContext, /, as_json: bool, **target: Any) -> None:
    """Remove a WordPress user (a rogue administrator) after keeping its rows; restorable."""
    preview = target["preview"]
    done = perform(obj.app(), RemoveUser(**target), here=preview)
    if as_json:
        emit_json(done)
    else:
        verb = "would remove" if preview else f"removed (restore: csm db restore-object {done.id})"
        click.echo(f"WordPress user {done.name} of {done.schema} {verb}")


@db.command("restore-object")
@click.argument("backup_id")
@json_option
@click.pass_obj
def restore_object(obj: CliContext, /, backup_id: str, as_json: bool) -> None:
    """Re-create a dropped object, or put a removed WordPress user back, from its backup."""
    done = perform(obj.app(), RestoreObject(backup_id))
    if as_json:
        emit_json(done)
    else:
        click.echo(f"{done.kind} {done.schema}.{done.name} re-created")
