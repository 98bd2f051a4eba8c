"""``csm doctor``."""

from __future__ import annotations

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.errors import ConfigError
from csm.health import doctor as doctor_service
from csm.health.doctor_model import CheckStatus, DoctorReport

INDENT = " " * 7
LABELS = {"ok": "[OK]  ", "warn": "[WARN]", "fail": "[FAIL]"}


@click.command(short_help="Diagnose the installation; each problem with its fix.")
@json_option
@click.pass_obj
def doctor(obj: CliContext, as_json: bool) -> int:
    """Check config, store, MTA, MariaDB, hosting panel and daemon.  Exit 1 on any failure."""
    try:
        app = obj.app()
    except ConfigError as exc:
        report = doctor_service.config_failed(exc)
    else:
        report = doctor_service.diagnose(app.loaded, app.host)
    if as_json:
        emit_json(report)
    else:
        _render(report)
    return 1 if report.failed else 0


def _render(report: DoctorReport) -> None:
    click.echo("=== csm doctor ===")
    for check in report.checks:
        click.echo(f"{LABELS[check.status.value]} {check.name}")
        if check.message:
            click.echo(f"{INDENT}{check.message}")
        if check.fix and check.status is not CheckStatus.OK:
            click.echo(f"{INDENT}Fix: {check.fix}")
    click.echo(f"Overall: {report.overall_status.value.upper()}")
