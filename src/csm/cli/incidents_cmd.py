"""``csm incidents``: list, show, status, review, bulk-status, sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from csm.cli import times
from csm.cli.context import CliContext
from csm.cli.output import emit_json, emit_list, json_option
from csm.incidents.bulk import DEFAULT_LIMIT, BulkRequest
from csm.incidents.model import Severity, Status
from csm.incidents.service import ListQuery
from csm.jsonio import to_jsonable
from csm.operations import incidents as ops
from csm.operations.base import perform

STATUSES = ["all", "active", "open", "contained", "resolved", "dismissed"]
TARGETS = [s.value for s in Status]


@click.group(short_help="List, show, review and change incidents.")
def incidents() -> None:
    """Incidents: findings correlated per account, mailbox or attacker."""


@incidents.command("list")
@click.option("--status", type=click.Choice(STATUSES), default="all", show_default=True)
@click.option("--kind", help="Only this kind (e.g. mailbox_takeover).")
@click.option("--account", help="Only this hosting account.")
@click.option(
    "--severity",
    type=click.Choice([s.value for s in Severity], case_sensitive=False),
    help="Only this severity.",
)
@click.option("--older-than", help="Last activity at least this long ago (72h, 3d).")
@click.option("--newer-than", help="Last activity within this long (2h, 1d).")
@click.option(
    "--limit", type=int, default=100, show_default=True, help="At most this many (max 1000)."
)
@click.option("--offset", type=int, default=0, show_default=True)
@click.option("--all", "all", is_flag=True, help="No limit: every match.")
@json_option
@click.pass_obj
def list_(obj: CliContext, /, as_json: bool, **options: Any) -> None:
    """List incidents, newest activity first."""
    query = ListQuery(
        **options
        | {
            "severity": Severity(options["severity"].upper()) if options["severity"] else None,
            "older_than": _age("--older-than", options["older_than"]),
            "newer_than": _age("--newer-than", options["newer_than"]),
        }
    )
    with obj.app().incidents() as service:
        page = service.list(query)
    if as_json:
        emit_list(
            page.items, total=page.total, offset=page.offset, limit=page.limit, status=page.status
        )
    else:
        from csm.cli import incidents_view as view  # noqa: PLC0415

        view.page(page)


@incidents.command("show")
@click.argument("incident_id")
@json_option
@click.pass_obj
def show(obj: CliContext, incident_id: str, as_json: bool) -> None:
    """One incident with its timeline and actions."""
    with obj.app().incidents() as service:
        detail = service.show(incident_id)
    if as_json:
        emit_json(detail)
    else:
        from csm.cli import incidents_view as view  # noqa: PLC0415

        view.detail(detail)


@incidents.command("status")
@click.argument("incident_id")
@click.argument("to", metavar="open|contained|resolved|dismissed", type=click.Choice(TARGETS))
@click.option("--details", default="", help="Why; required for dismissed.")
@json_option
@click.pass_obj
def status(obj: CliContext, incident_id: str, to: str, details: str, as_json: bool) -> None:
    """Change an incident's status (resolved passes the close guard)."""
    change = perform(obj.app(), ops.SetStatus(incident_id, Status(to), details))
    if as_json:
        emit_json({"ok": True, **to_jsonable(change)})
    elif change.changed:
        click.echo(f"{change.id}: {change.from_status} -> {change.to_status}")
    else:
        click.echo(f"{change.id}: already {change.to_status}")


@incidents.command("review")
@click.argument("incident_id")
@click.option("--note", required=True, help="What you checked.")
@json_option
@click.pass_obj
def review(obj: CliContext, incident_id: str, note: str, as_json: bool) -> None:
    """Record your review of an incident (the close guard's first condition)."""
    done = perform(obj.app(), ops.ReviewIncident(incident_id, note))
    if as_json:
        emit_json(done)
    else:
        click.echo(f"{done.incident_id}: reviewed by {done.who}")


@incidents.command("bulk-status")
@click.option("--older-than", help="Age guard: last activity at least this long ago (72h, 3d).")
@click.option("--last-seen-before", help="Age guard: last activity before this RFC 3339 time.")
@click.option(
    "--status",
    type=click.Choice(["active", "open", "contained"]),
    default="active",
    show_default=True,
)
@click.option(
    "--to", type=click.Choice(["resolved", "dismissed"]), default="resolved", show_default=True
)
@click.option("--kind", help="Only this kind (exact).")
@click.option("--domain", help="Only this domain (case-insensitive).")
@click.option("--account", help="Only this account (case-insensitive).")
@click.option("--mailbox", help="Only this mailbox (case-insensitive).")
@click.option(
    "--limit",
    type=int,
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many (max 1000).",
)
@click.option("--apply", is_flag=True, help="Change them (with --confirm); without it, a preview.")
@click.option("--confirm", is_flag=True, help="Confirm --apply.")
@click.option("--details", default="bulk incident cleanup", show_default=True, help="Why.")
@json_option
@click.pass_obj
def bulk_status(obj: CliContext, /, as_json: bool, **options: Any) -> int:
    """Close many stale incidents: preview first, then --apply --confirm in bounded batches."""
    request = _bulk_request(options)
    result = perform(obj.app(), ops.BulkStatus(request))
    if as_json:
        emit_json(result)
    else:
        from csm.cli import incidents_view as view  # noqa: PLC0415

        view.bulk(result)
    return 0


@incidents.command("sweep")
@click.option("--apply", is_flag=True, help="Close and delete; without it, a preview.")
@json_option
@click.pass_obj
def sweep(obj: CliContext, apply: bool, as_json: bool) -> None:
    """Auto-close idle incidents, apply the age/active caps and retention (what the daemon runs)."""
    result = perform(obj.app(), ops.Sweep(apply))
    if as_json:
        emit_json(result)
    else:
        from csm.cli import incidents_view as view  # noqa: PLC0415

        view.sweep(result)


def _age(option: str, value: str | None) -> timedelta | None:
    return times.length(option, value) if value else None


def _bulk_request(options: dict[str, Any]) -> BulkRequest:
    older = options.pop("older_than")
    seen = options.pop("last_seen_before")
    older_than = times.length("--older-than", str(older)) if older else None
    return BulkRequest(
        older_than=older_than,
        last_seen_before=times.moment("--last-seen-before", str(seen)) if seen else None,
        to=Status(str(options.pop("to"))),
        **options,
    )
