"""``csm store``."""

from __future__ import annotations

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.health import maintenance


@click.group(short_help="Manage the state store (create, migrate).")
def store() -> None:
    """Manage the state store."""


@store.command("migrate")
@json_option
@click.pass_obj
def migrate(obj: CliContext, as_json: bool) -> None:
    """Create the store if needed and apply pending migrations (recorded in the audit log)."""
    app = obj.app()
    result = maintenance.migrate(app.state_dir, app.log_dir, app.clock, app.operator)
    if as_json:
        emit_json(result)
        return
    if result.applied:
        click.echo(f"{result.path}: applied {', '.join(result.applied)}")
    else:
        click.echo(f"{result.path}: up to date ({len(result.migrations)} migrations)")
