"""``csm status``."""

from __future__ import annotations

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.health import status as status_service


@click.command(short_help="Show a health snapshot (daemon, store, incidents).")
@json_option
@click.pass_obj
def status(obj: CliContext, as_json: bool) -> None:
    """Health snapshot: daemon, store, open incidents.  Works without the daemon."""
    app = obj.app()
    report = status_service.collect(app.loaded, app.host)
    if as_json:
        emit_json(report)
        return
    _render(report)


def _render(report: status_service.StatusReport) -> None:
    daemon = "running" if report.daemon_running else "not running"
    store = "healthy" if report.store_healthy else f"UNHEALTHY ({report.store_error})"
    incidents = "unknown" if report.incidents_open is None else str(report.incidents_open)
    rows = [
        ("version", report.version),
        ("hostname", report.hostname),
        ("daemon", daemon),
        ("status", report.status),
        ("store", f"{store}, {report.store_size_mb} MB"),
        ("open incidents", incidents),
    ]
    if report.incidents_open_by_severity:
        by = report.incidents_open_by_severity
        rows.append(("by severity", ", ".join(f"{k}={v}" for k, v in by.items())))
    if report.daemon_running:
        rows.append(("uptime", f"{report.uptime_sec}s"))
        api = report.api.get("url") or f"not served: {report.api.get('error') or 'unknown'}"
        rows.append(("web UI and API", api))
    for stop in report.mail_stops:
        state = "STOPPED" if stop.state == "active" else f"{stop.state.upper()} (interrupted)"
        what = f"{state} since {stop.since} by {stop.who}: {stop.reason}"
        rows.append((f"{stop.direction} mail", f"{what} (undo: {stop.undo})"))
    for name, watcher in report.watchers.items():
        rows.append((f"watch {name}", _watcher(watcher)))
    for name, job in report.schedules.items():
        last = job.get("last_error") or job.get("last_result") or "not run yet"
        rows.append((f"job {name}", f"next {job.get('next_at')}: {last}"))
    width = max(16, *(len(key) + 2 for key, _ in rows))
    for key, value in rows:
        click.echo(f"{key + ':':<{width}}{value}")


def _watcher(watcher: dict[str, object]) -> str:
    if not watcher.get("attached"):
        return f"DETACHED {watcher.get('error') or ''}".rstrip()
    lag = f"lag {watcher.get('lag_bytes', 0)} B / {watcher.get('lag_seconds', 0)} s"
    return f"{watcher.get('path', '')}: {watcher.get('lines', 0)} lines, {lag}"
