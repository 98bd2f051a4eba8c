"""``csm doctor``'s rows for a running daemon: one per watcher (is the log followed, how far
behind) and one per schedule (did its last run fail)."""

from __future__ import annotations

from typing import Any

from csm import control
from csm.config.loader import LoadedConfig
from csm.errors import CsmError
from csm.health.doctor_model import Check, CheckStatus
from csm.host import Host

LAG_WARN_SECONDS = 300.0


def daemon_checks(loaded: LoadedConfig, host: Host) -> list[Check]:
    """Nothing when the daemon does not run (``daemon reachable`` says so)."""
    try:
        status = control.request(
            host.path(loaded.config.paths.control_socket), "status", timeout=10
        )
    except CsmError:
        return []
    if not isinstance(status, dict):
        return []
    watchers = status.get("watchers") or {}
    schedules = status.get("schedules") or {}
    checks = [_watcher(str(n), w) for n, w in watchers.items() if isinstance(w, dict)]
    checks += [_schedule(str(n), j) for n, j in schedules.items() if isinstance(j, dict)]
    return checks


def _watcher(name: str, watcher: dict[str, Any]) -> Check:
    title, path = f"watch {name}", watcher.get("path", "")
    if not watcher.get("attached"):
        fix = f"check that {path} exists and is readable (mail.exim_mainlog / mail.maillog)"
        return Check(title, CheckStatus.FAIL, watcher.get("error") or "not attached", fix)
    lag = float(watcher.get("lag_seconds") or 0)
    message = f"{path}: {watcher.get('lines', 0)} lines, {watcher.get('lag_bytes', 0)} bytes behind"
    if lag > LAG_WARN_SECONDS:
        fix = "the daemon falls behind: see `csm status` and the daemon's log (journalctl -u csm)"
        return Check(title, CheckStatus.WARN, f"{message}, {lag:.0f} s behind", fix)
    return Check(title, CheckStatus.OK, message)


def _schedule(name: str, job: dict[str, Any]) -> Check:
    title = f"schedule {name}"
    if job.get("last_error"):
        return Check(
            title, CheckStatus.WARN, f"last run failed: {job['last_error']}", "journalctl -u csm"
        )
    last = job.get("last_result") or "not run yet"
    return Check(title, CheckStatus.OK, f"{last}; next {job.get('next_at')}")
