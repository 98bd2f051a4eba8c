"""Human rendering of incidents (rich tables on stdout).

Every value that came from outside (messages, paths, mailboxes, accounts, notes) goes through
:func:`safe`: shown literally, never parsed as rich markup, with control characters made visible,
so a crafted log line cannot restyle the table or send escape sequences to the terminal.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from csm.cli.terminal import printable
from csm.clock import isoformat
from csm.incidents.bulk import BulkResult
from csm.incidents.model import Closing, Incident, IncidentDetail, Severity
from csm.incidents.service import IncidentPage
from csm.incidents.sweep import SweepResult

SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "yellow", "WARNING": "cyan"}
NO_WRAP = {"ID", "KIND", "SEVERITY", "STATUS", "TIME", "LAST SEEN", "RESULT"}
WIDE = 200


def safe(value: object) -> Text:
    return Text(printable(value))


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


def _severity(severity: Severity | None) -> Text:
    return Text(severity.value, SEVERITY_STYLE[severity.value]) if severity else Text("")


def page(result: IncidentPage) -> None:
    table = _table("ID", "KIND", "SEVERITY", "STATUS", "SUBJECT", "FINDINGS", "LAST SEEN")
    for i in result.items:
        table.add_row(
            i.id,
            i.kind.value,
            _severity(i.severity),
            i.status.value,
            safe(subject(i)),
            str(i.finding_count),
            when(i.updated_at),
        )
    console = _console()
    console.print(table)
    console.print(f"{len(result.items)} of {result.total} incident(s) (status: {result.status})")


def detail(found: IncidentDetail) -> None:
    console, incident = _console(), found.incident
    rows = [
        ("id", incident.id),
        ("kind", incident.kind.value),
        ("status", incident.status.value),
        ("severity", _severity(incident.severity)),
        ("subject", safe(subject(incident))),
        ("key", safe(", ".join(f"{k}={v}" for k, v in incident.correlation_key.items()))),
        ("created", when(incident.created_at)),
        ("last seen", when(incident.updated_at)),
        ("closed", _closed(incident)),
        ("flags", ", ".join(incident.compound_flags) or "-"),
        ("findings", str(incident.finding_count)),
    ]
    for key, value in rows:
        console.print(Text.assemble((f"{key + ':':<11}", "bold"), value))
    timeline = _table("TIME", "CHECK", "SEVERITY", "MESSAGE")
    for event in found.timeline:
        check = safe(event.check or event.kind)
        timeline.add_row(when(event.time), check, _severity(event.severity), safe(event.message))
    actions = _table("TIME", "ACTION", "WHO", "DETAILS")
    for action in found.actions:
        actions.add_row(when(action.time), action.action, safe(action.who), safe(action.details))
    for title, table in (("timeline", timeline), ("actions", actions)):
        console.print(Text(f"\n{title}", "bold"))
        console.print(table)
    if found.closing is not None:
        _closing(console, found.closing)


def _closing(console: Console, closing: Closing) -> None:
    """What resolving the incident still needs, each with the command that meets it."""
    console.print(Text("\nto resolve", "bold"))
    if closing.allowed:
        console.print("every condition is met: csm incidents status <id> resolved")
    for unmet in closing.unmet:
        console.print(Text.assemble(f"- {unmet.condition}: ", safe(unmet.reason)))
        console.print(Text.assemble("  run: ", safe(unmet.fix)))


def _closed(incident: Incident) -> str:
    return f"{when(incident.closed_at)} by {incident.closed_by}" if incident.closed_at else "-"


def bulk(result: BulkResult) -> None:
    console = _console()
    would = sum(1 for item in result.items if item.result == "would_change")
    head = "DRY RUN (nothing changed)" if result.dry_run else "APPLIED"
    changed = f"would update {would}" if result.dry_run else f"updated {result.updated}"
    console.print(
        f"{head}: matched {result.matched}, considered {len(result.items)} (limit {result.limit}),"
        f" {changed}, blocked {result.blocked}"
    )
    table = _table("ID", "KIND", "STATUS", "TO", "SUBJECT", "LAST SEEN", "RESULT")
    for item in result.items:
        table.add_row(
            item.id,
            item.kind.value,
            item.status.value,
            item.new_status.value,
            safe(item.account or item.mailbox or item.domain),
            when(item.last_seen_at),
            item.result,
        )
    console.print(table)
    for item in result.items:
        for unmet in item.unmet:
            console.print(safe(f"  {item.id} blocked ({unmet.condition}): {unmet.reason}"))
            console.print(safe(f"    fix: {unmet.fix}"))
    if result.dry_run and would:
        console.print("Review the list, then repeat with --apply --confirm to change these.")


def sweep(result: SweepResult) -> None:
    console = _console()
    for field in dataclasses.fields(result):
        if field.name not in ("dry_run", "closed_ids"):
            console.print(f"{field.name.replace('_', ' ') + ':':<20}{getattr(result, field.name)}")
    closed = len(result.closed_ids)
    console.print("DRY RUN (nothing changed)" if result.dry_run else f"APPLIED: closed {closed}")
