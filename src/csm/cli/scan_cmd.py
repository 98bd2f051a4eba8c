"""``csm scan`` and ``csm db``."""

from __future__ import annotations

import importlib
from types import ModuleType

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option

CHECKS = "files,database"


def view() -> ModuleType:
    return importlib.import_module("csm.cli.scan_view")


@click.command("scan")
@click.argument("account", required=False)
@click.option("--all", "all_accounts", is_flag=True, help="Every account, in turn.")
@click.option("--checks", default=CHECKS, show_default=True, help="Comma-separated checks.")
@json_option
@click.pass_obj
def scan(obj: CliContext, /, account: str | None, all_accounts: bool, checks: str,
         as_json: bool) -> None:  # fmt: skip
    """Scan an account (or --all): its files (YARA-X rules, PHP in uploads) and databases;
    findings go to the incidents, and a clean, complete scan is what the close guard's last
    condition waits for."""
    app = obj.app()
    if bool(account) == all_accounts:
        raise click.UsageError("give an ACCOUNT or --all")
    names = app.accounts().names() if all_accounts else [str(account)]
    wanted = [c.strip() for c in checks.split(",") if c.strip()]
    with app.scans() as service:
        done = [service.scan(name, wanted) for name in names]
    if as_json:
        emit_json({"scans": done} if all_accounts else done[0])
    else:
        view().scans(done)
    if any(not s.complete for s in done):
        click.get_current_context().exit(1)


@click.group()
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
        emit_json({"objects": found})
    else:
        view().objects(found)
