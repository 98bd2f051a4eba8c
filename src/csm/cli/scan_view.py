"""Human rendering of scans and database objects."""

from __future__ import annotations

from rich.text import Text

from csm.cli.incidents_view import SEVERITY_STYLE, _console, _table, safe
from csm.scan.database import DbObject
from csm.scan.service import AccountScan

VERDICT_STYLE = {"malicious": "bold red", "unexpected": "yellow", "allowed": "green"}


def scans(done: list[AccountScan]) -> None:
    console = _console()
    for result in done:
        state = "clean" if result.clean else ("INCOMPLETE" if not result.complete else "FINDINGS")
        style = "green" if result.clean else "bold red"
        schemas = f"  files: {result.files}  schemas: {len(result.schemas)}"
        console.print(
            Text.assemble(("scan ", "bold"), safe(result.account), "  ", (state, style), schemas)
        )
        for finding in result.findings:
            severity = Text(
                finding.severity.name, style=SEVERITY_STYLE.get(finding.severity.name, "")
            )
            console.print(Text.assemble("  ", severity, "  ", safe(finding.message)))
            body = finding.details.get("body")
            if body:
                console.print(Text.assemble("      ", safe(str(body)[:160])))
        for error in result.errors:
            console.print(Text.assemble(("  not examined: ", "yellow"), safe(error)))
        if result.recorded is not None:
            console.print(f"  incidents: {', '.join(result.recorded.incidents) or '-'}")


def summary(done: list[AccountScan]) -> None:
    """The ``--all`` table: one line per account."""
    table = _table("ACCOUNT", "STATE", "FILES", "SCHEMAS", "FINDINGS", "NOT EXAMINED")
    for result in done:
        state = "clean" if result.clean else ("incomplete" if not result.complete else "findings")
        table.add_row(
            safe(result.account),
            state,
            str(result.files),
            str(len(result.schemas)),
            str(len(result.findings)),
            str(len(result.errors)),
        )
    _console().print(table)


def objects(found: list[DbObject]) -> None:
    table = _table("SCHEMA", "KIND", "NAME", "VERDICT", "WHY")
    for item in found:
        verdict = Text(item.verdict, style=VERDICT_STYLE.get(item.verdict, ""))
        table.add_row(
            safe(item.schema), item.kind, safe(item.name), verdict, safe("; ".join(item.reasons))
        )
    console = _console()
    console.print(table)
    console.print(f"{len(found)} object(s)")
