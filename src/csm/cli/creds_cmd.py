"""``csm creds``: plan, status, defer (and rotate)."""

from __future__ import annotations

import importlib
from types import ModuleType

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option


def view() -> ModuleType:
    return importlib.import_module("csm.cli.accounts_view")


@click.group()
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
        view().plan(found)


@creds.command("status")
@click.argument("account")
@json_option
@click.pass_obj
def status(obj: CliContext, /, account: str, as_json: bool) -> None:
    """Per item: rotated, deferred or pending, with times; and whether the gate is met."""
    with obj.app().credentials() as service:
        found = service.plan(account)
    if as_json:
        emit_json(found)
    else:
        view().plan(found)


@creds.command("defer")
@click.argument("account")
@click.argument("items", nargs=-1)
@click.option("--reason", required=True, help="Why rotation is deferred (recorded).")
@json_option
@click.pass_obj
def defer(obj: CliContext, /, account: str, items: tuple[str, ...], reason: str,
          as_json: bool) -> None:  # fmt: skip
    """Defer rotation of ITEMS (every item when none is given) for a documented reason."""
    app = obj.app()
    with app.credentials() as service:
        found = service.defer(account, items, reason, app.operator)
    if as_json:
        emit_json(found)
    else:
        view().deferral(found)
