"""Housekeeping: auto-close idle incidents, enforce the age and active caps, delete old closed
incidents, prune stale pending sightings.  Run by the daemon; ``csm incidents sweep`` previews it.

Auto-close by kind (``auto:stale``) honours the close guard for incidents that name an account or
mailbox: an unreviewed compromise is never quietly resolved; it is counted as ``held``.  The two
caps (``auto:age_cap``, ``auto:active_cap``) bound the store and close regardless, as in the Go
implementation; each closure is an action on the incident and an audit entry.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from csm import duration
from csm.audit import AuditLog
from csm.config.incidents import IncidentsConfig
from csm.incidents import lifecycle, repo
from csm.incidents.guard import CloseGuard
from csm.incidents.live import LiveIncident
from csm.incidents.model import ClosedBy, Status
from csm.store.db import Store

ACTIVE = (Status.OPEN, Status.CONTAINED)


@dataclass(slots=True)
class SweepResult:
    dry_run: bool
    closed_stale: int = 0
    held: int = 0
    closed_age_cap: int = 0
    closed_active_cap: int = 0
    deleted: int = 0
    pending_pruned: int = 0
    closed_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Sweeper:
    store: Store
    settings: IncidentsConfig
    guard: CloseGuard
    audit: AuditLog

    def run(self, now: datetime, *, apply: bool) -> SweepResult:
        result = SweepResult(dry_run=not apply)
        with self.store.transaction() as conn:
            self._stale(conn, now, result, apply)
            self._age_cap(conn, now, result, apply)
            self._active_cap(conn, now, result, apply)
            if apply:
                result.deleted = repo.delete_closed_before(conn, now - self.settings.retention)
                result.pending_pruned = repo.prune_pending(conn, now - self.settings.merge_window)
        if apply and result.closed_ids:
            targets = [(i, {"to": "resolved", "via": "sweep"}) for i in result.closed_ids]
            self.audit.record_many("auto", "incident.auto_close", targets)
        return result

    def _stale(
        self, conn: sqlite3.Connection, now: datetime, result: SweepResult, apply: bool
    ) -> None:
        auto = self.settings.auto_close
        if not auto.enabled:
            return
        budget = auto.max_per_sweep
        live = apply and not auto.dry_run
        for kind, idle in sorted(auto.by_kind.items()):
            if idle is None or budget <= 0:
                continue
            where = repo.Filter(statuses=ACTIVE, kind=kind, updated_before=now - idle)
            for incident in repo.page(
                self.store, where, limit=budget, offset=0, newest_first=False
            )[0]:
                if incident.key.names_account and not self.guard.check(incident).allowed:
                    result.held += 1
                    continue
                budget -= 1
                result.closed_stale += 1
                move = _auto(now, ClosedBy.STALE, f"stale {duration.render(idle)}")
                _close(conn, incident, move, result, live)

    def _age_cap(
        self, conn: sqlite3.Connection, now: datetime, result: SweepResult, apply: bool
    ) -> None:
        where = repo.Filter(statuses=ACTIVE, updated_before=now - self.settings.age_cap)
        for incident in repo.page(self.store, where, limit=None, offset=0, newest_first=False)[0]:
            result.closed_age_cap += 1
            detail = f"stale age cap {duration.render(self.settings.age_cap)}"
            _close(conn, incident, _auto(now, ClosedBy.AGE_CAP, detail), result, apply)

    def _active_cap(
        self, conn: sqlite3.Connection, now: datetime, result: SweepResult, apply: bool
    ) -> None:
        active = repo.Filter(statuses=ACTIVE)
        excess = repo.page(self.store, active, limit=0, offset=0)[1] - self.settings.active_cap
        if excess <= 0:
            return
        for incident in repo.page(self.store, active, limit=excess, offset=0, newest_first=False)[
            0
        ]:
            result.closed_active_cap += 1
            detail = f"active incident cap {self.settings.active_cap}"
            _close(conn, incident, _auto(now, ClosedBy.ACTIVE_CAP, detail), result, apply)


def _auto(now: datetime, by: ClosedBy, detail: str) -> lifecycle.Move:
    return lifecycle.Move(Status.RESOLVED, now, "auto", detail, by, "incident_auto_closed")


def _close(
    conn: sqlite3.Connection,
    incident: LiveIncident,
    move: lifecycle.Move,
    result: SweepResult,
    apply: bool,
) -> None:
    if apply:
        lifecycle.apply(conn, incident, move)
        result.closed_ids.append(incident.id)
