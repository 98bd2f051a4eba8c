"""Human rendering of incidents (rich tables on stdout)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from rich.console import Console
from rich.table import Table

from csm.clock import isoformat
from csm.incidents.bulk import BulkResult
from csm.incidents.model import Incident, IncidentDetail
from csm.incidents.service import IncidentPage
from csm.incidents.sweep import SweepResult

SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "yellow", "WARNING": "cyan"}
NO_WRAP = {"ID", "KIND", "SEVERITY", "STATUS", "TIME", "LAST SEEN", "RESULT"}
WIDE = 200


def _console() -> Console:
    """Wide when writing to a pipe or file: ids and times are never cut."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=WIDE)
    return console


def _table(*columns: str) -> Table:
    table = Table(box=None, header_style="bold")
    for column in columns:
        table.add_column(column, no_wrap=column in NO_WRAP)
    return table


def when(at: datetime | None) -> str:
    return isoformat(at) if at else "-"


def subject(incident: Incident) -> str:
    parts = [incident.account, incident.mailbox or incident.domain]
    key = incident.correlation_key
    if not any(parts):
        parts = [
            str(key.get("remote_ip") or key.get("host") or key.get("uid") or key.get("pid") or "")
        ]
    return " ".join(p for p in parts if p)


def _severity(value: str) -> str:
    return f"[{SEVERITY_STYLE.get(value, '')}]{value}[/]"


def page(result: IncidentPage) -> None:
    table = _table("ID", "KIND", "SEVERITY", "STATUS", "SUBJECT", "FINDINGS", "LAST SEEN")
    for i in result.items:
        table.add_row(
            i.id, i.kind.value, _severity(i.severity.value), i.status.value, subject(i),
            str(i.finding_count), when(i.updated_at),
        )  # fmt: skip
    console = _console()
    console.print(table)
    shown = len(result.items)
    console.print(f"{shown} of {result.total} incident(s) (status: {result.status})")


def detail(found: IncidentDetail) -> None:
    console, incident = _console(), found.incident
    rows = [
        ("id", incident.id), ("kind", incident.kind.value), ("status", incident.status.value),
        ("severity", _severity(incident.severity.value)), ("subject", subject(incident)),
        ("key", ", ".join(f"{k}={v}" for k, v in incident.correlation_key.items())),
        ("created", when(incident.created_at)), ("last seen", when(incident.updated_at)),
        ("closed", _closed(incident)), ("flags", ", ".join(incident.compound_flags) or "-"),
        ("findings", str(incident.finding_count)),
    ]  # fmt: skip
    for key, value in rows:
        console.print(f"[bold]{key + ':':<11}[/]{value}")
    timeline = _table("TIME", "CHECK", "SEVERITY", "MESSAGE")
    for event in found.timeline:
        severity = _severity(event.severity.value) if event.severity else ""
        timeline.add_row(when(event.time), event.check or event.kind, severity, event.message)
    console.print("\n[bold]timeline[/]")
    console.print(timeline)
    actions = _table("TIME", "ACTION", "WHO", "DETAILS")
    for action in found.actions:
        actions.add_row(when(action.time), action.action, action.who, action.details)
    console.print("\n[bold]actions[/]")
    console.print(actions)


def _closed(incident: Incident) -> str:
    return f"{when(incident.closed_at)} by {incident.closed_by}" if incident.closed_at else "-"


def bulk(result: BulkResult) -> None:
    console = _console()
    mode = "DRY RUN (nothing changed)" if result.dry_run else "APPLIED"
    console.print(
        f"{mode}: matched {result.matched}, considered {len(result.items)} (limit {result.limit}),"
        f" {'updated' if not result.dry_run else 'would update'}"
        f" {result.updated if not result.dry_run else _would(result)}, blocked {result.blocked}"
    )
    table = _table("ID", "KIND", "STATUS", "TO", "SUBJECT", "LAST SEEN", "RESULT")
    for item in result.items:
        table.add_row(
            item.id, item.kind.value, item.status.value, item.new_status.value,
            item.account or item.mailbox or item.domain, when(item.last_seen_at), item.result,
        )  # fmt: skip
    console.print(table)
    for item in result.items:
        for unmet in item.unmet:
            console.print(
                f"  {item.id} blocked ({unmet.condition}): {unmet.reason}\n    fix: {unmet.fix}"
            )
    if result.dry_run and _would(result):
        console.print("Review the list, then repeat with --apply --confirm to change these.")


def _would(result: BulkResult) -> int:
    return sum(1 for item in result.items if item.result == "would_change")


def sweep(result: SweepResult) -> None:
    console = _console()
    mode = "DRY RUN" if result.dry_run else "APPLIED"
    for field in dataclasses.fields(result):
        if field.name not in ("dry_run", "closed_ids"):
            console.print(f"{field.name.replace('_', ' ') + ':':<20}{getattr(result, field.name)}")
    console.print(mode if result.dry_run else f"{mode}: closed {len(result.closed_ids)}")
