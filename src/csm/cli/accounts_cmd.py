"""``csm accounts``: list, show, map, review."""

from __future__ import annotations

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, emit_list, json_option


@click.group(short_help="Hosting accounts: list, show, map, review.")
def accounts() -> None:
    """Hosting accounts: inventory, ownership, reviews."""


@accounts.command("list")
@json_option
@click.pass_obj
def list_(obj: CliContext, /, as_json: bool) -> None:
    """Every hosting account with its domains, mailboxes and sites."""
    found = obj.app().accounts().all()
    if as_json:
        emit_list(found)
    else:
        from csm.cli import accounts_view as view  # noqa: PLC0415

        view.accounts(found)


@accounts.command("show")
@click.argument("user")
@json_option
@click.pass_obj
def show(obj: CliContext, /, user: str, as_json: bool) -> None:
    """One account: domains, mailboxes, FTP, databases, WordPress sites, open incidents and
    credential status."""
    with obj.app().credentials() as service:
        found = service.detail(user)
    if as_json:
        emit_json(found)
    else:
        from csm.cli import accounts_view as view  # noqa: PLC0415

        view.detail(found)


@accounts.command("map")
@click.argument("query")
@json_option
@click.pass_obj
def map_(obj: CliContext, /, query: str, as_json: bool) -> None:
    """Which account owns a domain, an address, a user or a path, and from which file."""
    found = obj.app().accounts().map(query)
    if as_json:
        emit_json(found)
    else:
        from csm.cli import accounts_view as view  # noqa: PLC0415

        view.mapping(found)


@accounts.command("review")
@click.argument("user")
@click.option("--note", required=True, help="What you checked.")
@json_option
@click.pass_obj
def review(obj: CliContext, /, user: str, note: str, as_json: bool) -> None:
    """Record an operator's review of the account (counts for every incident of it)."""
    from csm.operations.base import perform  # noqa: PLC0415
    from csm.operations.scans import ReviewAccount  # noqa: PLC0415

    done = perform(obj.app(), ReviewAccount(user, note))
    if as_json:
        emit_json(done)
    else:
        click.echo(f"reviewed {done.account}: {done.note}")
