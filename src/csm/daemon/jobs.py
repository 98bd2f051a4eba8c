"""What the daemon does on a schedule: account scans (critical: databases and WordPress
administrators; deep: files too), the incident sweep, and a reminder when no CSM backup is
recent.  Each job opens its own services (it runs in a worker thread)."""

from __future__ import annotations

from dataclasses import dataclass

from csm.app import App
from csm.errors import RefusedError

CRITICAL = ("database", "wordpress")
DEEP = ("files", "database", "wordpress")


@dataclass(frozen=True, slots=True)
class ScanAccounts:
    name: str
    app: App
    checks: tuple[str, ...]

    def run(self) -> str:
        names = self.app.accounts().names()
        findings = incomplete = 0
        with self.app.scans() as scans:
            for account in names:
                done = scans.scan(account, self.checks)
                findings += len(done.findings)
                incomplete += not done.complete
        note = f", {incomplete} incomplete" if incomplete else ""
        checks = ", ".join(self.checks)
        return f"{len(names)} account(s) scanned ({checks}): {findings} finding(s){note}"


@dataclass(frozen=True, slots=True)
class Sweep:
    app: App
    name: str = "sweep"

    def run(self) -> str:
        with self.app.incidents() as incidents:
            done = incidents.sweep(apply=True)
        closed = done.closed_stale + done.closed_age_cap + done.closed_active_cap
        return f"{closed} closed, {done.deleted} deleted, {done.pending_pruned} pending pruned"


@dataclass(frozen=True, slots=True)
class BackupReminder:
    app: App
    name: str = "backup_reminder"

    def run(self) -> str:
        with self.app.incidents() as incidents:
            due = incidents.backup_due()
        if due is None:
            return "a recent CSM backup exists"
        raise due  # logged as the job's error, with the command that takes one


@dataclass(frozen=True, slots=True)
class EmergencyReminder:
    """While mail is stopped: a finding once the stop is older than
    ``mail.emergency.remind_after`` (again each period), and a warning in the daemon's log."""

    app: App
    name: str = "emergency_reminder"

    def run(self) -> str:
        with self.app.emergency() as emergency:
            status = emergency.status()
            findings = emergency.reminders()
        if findings:
            with self.app.incidents() as incidents:
                incidents.record(findings)
        if status.clean:
            return "mail flows (no emergency stop)"
        stopped = [
            f"{s.stop.direction} mail stopped since {s.stop.started_at:%Y-%m-%d %H:%M}Z"
            f" ({s.next_step})"
            for s in status.stops
            if s.stop.open
        ]
        stopped += [
            f"stray flag stop-{d} (csm mail resume {d} --apply)" for d in status.stray_flags
        ]
        if status.firewall_ports:
            ports = ", ".join(str(p) for p in status.firewall_ports)
            stopped.append(f"SMTP ports {ports} closed in nftables (table inet csm)")
        raise RefusedError("; ".join(stopped), fix="csm mail emergency status")
