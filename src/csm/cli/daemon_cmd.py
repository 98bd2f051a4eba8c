"""``csm daemon``."""

from __future__ import annotations

import click

from csm.cli import times
from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option


@click.command(
    "daemon", short_help="Run the continuous monitor: follow the logs, schedules, control socket."
)
@click.option(
    "--replay-from",
    metavar="TIME",
    help="Read the logs from their start and record findings from TIME on: a duration back"
    " (24h, 7d) or an RFC 3339 time.  Without it a first start begins at the end of each log,"
    " and a restart where the last run stopped.",
)
@json_option
@click.pass_obj
def daemon(obj: CliContext, /, replay_from: str | None, as_json: bool) -> None:
    """Follow Exim's mainlog and the mail log through the detectors into incidents, run the
    scheduled scans, sweep and backup reminder, answer on the control socket, and serve
    the web UI, the HTTP API and /metrics on api.listen (`csm status` shows the address),
    until SIGTERM.  SIGHUP reloads the configuration (an invalid one is refused and the old one
    kept).  Log lines are JSON on stderr; with --json a summary is printed on stdout at exit."""
    from csm.daemon.journal import setup  # noqa: PLC0415
    from csm.daemon.run import Daemon  # noqa: PLC0415

    setup()
    app = obj.app()
    runner = Daemon(app, obj, obj.env, replay_from=times.since(replay_from))
    summary = runner.run()
    if as_json:
        emit_json(summary)
