"""``csm drill``."""

from __future__ import annotations

from pathlib import Path

import click

from csm.cli.output import emit_json, json_option


@click.group(short_help="Build a simulated hosting server to rehearse on.")
def drill() -> None:
    """Simulated hosting servers for tests, demos and runbook rehearsal."""


@drill.command("build")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same host.")
@click.option(
    "--databases/--no-databases",
    default=True,
    show_default=True,
    help="Create the WordPress databases in MariaDB (as root from the drill's .my.cnf).",
)
@click.option(
    "--queue/--no-queue",
    default=True,
    show_default=True,
    help="Fill the host's Exim queue (driving the real Exim): mail, spam, frozen bounces.",
)
@json_option
def build(directory: Path, seed: int, databases: bool, queue: bool, as_json: bool) -> None:
    """Build a simulated cPanel host under DIRECTORY (an earlier drill there is replaced)."""
    from csm.clock import SystemClock  # noqa: PLC0415
    from csm.drill.rehearsal import rehearsal  # noqa: PLC0415

    built = rehearsal(directory, seed, SystemClock(), databases=databases, queue=queue)
    if as_json:
        emit_json(built)
        return
    host, queued = built.host, built.queue
    if queued is not None:
        counts = ", ".join(f"{name} {len(ids)}" for name, ids in queued.ids.items())
        click.echo(f"Exim queue: {queued.total} messages ({counts})")
    click.echo(f"Simulated cPanel host (seed {host.seed}) in {host.root}")
    for account in host.accounts:
        domains = ", ".join(account.domains)
        click.echo(f"  {account.user:<10} {domains:<40} {len(account.mailboxes)} mailboxes")
    click.echo(f"\nUse it:  export CSM_CONFIG={host.config_path}")
