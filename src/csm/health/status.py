"""``csm status``: a health snapshot, read from the store directly and from the daemon if it runs.

Keys follow the Go implementation's ``status --json`` where they apply; unknown times are
``null`` rather than Go's zero time.
"""

from __future__ import annotations

import socket
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csm import control
from csm.clock import isoformat
from csm.config.loader import LoadedConfig
from csm.emergency import repo as emergency_repo
from csm.errors import CsmError, ServiceUnavailableError
from csm.host import Host
from csm.incidents import repo as incidents_repo
from csm.store.db import Store, health
from csm.version import build_info

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StatusReport:
    version: str
    hostname: str
    daemon_running: bool
    status: str
    started_at: str | None
    uptime_sec: int | None
    latest_scan: str | None
    store_healthy: bool
    store_error: str | None
    store_size_mb: float
    incidents_open: int | None
    incidents_open_by_severity: dict[str, int] | None
    config_hash: str
    # name -> attached, path, error, lag_bytes, lag_seconds, lines, skipped, rotations, …
    watchers: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    api: dict[str, str] = field(default_factory=dict)  # the daemon's: {url, error}
    binary_hash: str | None = None  # of the code the running daemon runs
    capabilities: tuple[str, ...] = ()
    mail_stops: tuple[MailStopped, ...] = ()  # the emergency stops in force (or interrupted)


@dataclass(frozen=True, slots=True)
class MailStopped:
    direction: str
    since: str
    who: str
    reason: str
    stop: str
    state: str  # active, or stopping/resuming (interrupted: run the command again)
    undo: str  # the command that undoes it (or completes it)


def collect(loaded: LoadedConfig, host: Host, daemon: dict[str, Any] | None = None) -> StatusReport:
    """The snapshot; ``daemon``: the daemon's own status when the daemon itself asks (else
    it is asked on the control socket)."""
    config = loaded.config
    state_dir = host.path(config.paths.state_dir)
    store = health(state_dir)
    counts, scanned, stops = _from_store(state_dir) if store.healthy else (None, None, ())
    if daemon is None:
        daemon = _daemon_status(host.path(config.paths.control_socket))
    running = daemon is not None
    return StatusReport(
        version=build_info().version,
        hostname=config.hostname or socket.gethostname(),
        daemon_running=running,
        status=_overall(running, store.healthy, daemon),
        started_at=_get(daemon, "started_at"),
        uptime_sec=_get(daemon, "uptime_sec"),
        latest_scan=_get(daemon, "latest_scan") or scanned,
        store_healthy=store.healthy,
        store_error=store.error,
        store_size_mb=round(store.size_bytes / MB, 2),
        incidents_open=sum(counts.values()) if counts is not None else None,
        incidents_open_by_severity=counts,
        config_hash=loaded.sha256,
        watchers=_watchers(daemon),
        schedules=dict(_get(daemon, "schedules") or {}),
        api=dict(_get(daemon, "api") or {}),
        binary_hash=_get(daemon, "binary_hash"),
        capabilities=tuple(_get(daemon, "capabilities") or ()),
        mail_stops=stops,
    )


def _from_store(
    state_dir: Path,
) -> tuple[dict[str, int] | None, str | None, tuple[MailStopped, ...]]:
    """The active incidents by severity, when the last scan finished, and the mail stops."""
    try:
        store = Store.open_readonly(state_dir)
    except CsmError:
        return None, None, ()
    try:
        stops = tuple(_stopped(s) for s in emergency_repo.stops(store.conn) if s.open)
        return incidents_repo.active_counts(store), _latest_scan(store), stops
    except sqlite3.Error:
        return None, None, ()
    finally:
        store.close()


def _stopped(stop: emergency_repo.Stop) -> MailStopped:
    return MailStopped(
        stop.direction,
        isoformat(stop.started_at),
        stop.who,
        stop.reason,
        stop.id,
        stop.state,
        stop.next_step,
    )


def _latest_scan(store: Store) -> str | None:
    """When the last recorded scan finished (any account), or None: a read-only query, as
    ``scan_results`` is written by :mod:`csm.scan.repo`, which this layer may not import."""
    found = store.conn.execute("SELECT max(finished_at) FROM scan_results").fetchone()[0]
    return str(found) if found else None


def _daemon_status(sock: Path) -> dict[str, Any] | None:
    """The daemon's own status; ``{}`` when it answers but cannot say, None when it is not there."""
    try:
        result = control.request(sock, "status", timeout=10)
    except ServiceUnavailableError:
        return None
    except CsmError:
        return {}
    return result if isinstance(result, dict) else {}


def _get(daemon: dict[str, Any] | None, key: str) -> Any:
    return daemon.get(key) if daemon else None


def _watchers(daemon: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each watcher's state as the daemon reports it (a bare flag: ``{"attached": flag}``)."""
    found = _get(daemon, "watchers") or {}
    if not isinstance(found, dict):
        return {}
    return {
        str(name): dict(value) if isinstance(value, dict) else {"attached": bool(value)}
        for name, value in found.items()
    }


def _overall(running: bool, store_healthy: bool, daemon: dict[str, Any] | None) -> str:
    """``down`` without a daemon; ``degraded`` on an unhealthy store or a detached watcher."""
    if not running:
        return "down"
    attached = all(w.get("attached") for w in _watchers(daemon).values())
    return "ok" if store_healthy and attached else "degraded"
