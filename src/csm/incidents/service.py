"""The incidents service: record findings, list and show incidents, review and change them."""

from __future__ import annotations

import gc
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from csm import duration
from csm.audit import AuditLog
from csm.clock import Clock, isoformat
from csm.config.incidents import IncidentsConfig
from csm.errors import NotFoundError, RefusedError, UsageError
from csm.incidents import bulk, lifecycle, repo, seen
from csm.incidents.correlator import Correlator
from csm.incidents.guard import CloseGuard, store_guard
from csm.incidents.live import ActionRow, Changes, LiveIncident
from csm.incidents.model import (
    Closing,
    Finding,
    Incident,
    IncidentDetail,
    RecordResult,
    Severity,
    Status,
    Unmet,
)
from csm.incidents.sweep import Sweeper, SweepResult
from csm.store import backups
from csm.store.db import Store

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
StatusFilter = Literal["all", "active", "open", "contained", "resolved", "dismissed"]


class Checkpoint(Protocol):
    """Rows written in the transaction that records findings (the daemon's log positions)."""

    def write(self, conn: sqlite3.Connection) -> None: ...


@dataclass(frozen=True, slots=True)
class ListQuery:
    status: StatusFilter = "all"
    kind: str | None = None
    account: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    all: bool = False
    severity: Severity | None = None
    older_than: timedelta | None = None  # last activity at least this long ago
    newer_than: timedelta | None = None  # last activity within this long


@dataclass(frozen=True, slots=True)
class IncidentPage:
    items: tuple[Incident, ...]
    total: int
    offset: int
    limit: int | None
    status: str


@dataclass(frozen=True, slots=True)
class Review:
    incident_id: str
    account: str
    note: str
    who: str


class Incidents:
    def __init__(
        self,
        store: Store,
        settings: IncidentsConfig,
        clock: Clock,
        audit: AuditLog,
        guard: CloseGuard | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.audit = audit
        self.guard = guard or store_guard(store)
        self._correlator: Correlator | None = None
        self._version = -1  # the store's data_version the correlator was loaded at

    # -- findings in ----------------------------------------------------------------------------

    @property
    def correlator(self) -> Correlator:
        """Loaded once from the store: a restart rebinds active incidents and pending sightings."""
        if self._correlator is None:
            self._correlator = Correlator(
                self.settings,
                repo.load_active(self.store),
                repo.load_pending(self.store),
                repo.load_created(self.store),
                repo.load_salt(self.store),
            )
        return self._correlator

    def record(
        self, findings: Iterable[Finding], checkpoint: Checkpoint | None = None
    ) -> RecordResult:
        """Correlate a batch of findings and persist every change in one transaction (with
        ``checkpoint``'s rows: how far the lines that produced them were read).

        The write lock is taken first: when another writer (a second ``check-logs``, the
        daemon, an operator's status change) committed since the correlator was loaded, it is
        loaded again under the lock, so two writers never hand out the same incident.  A
        finding whose origin was recorded before is left out (a log read twice counts once)."""
        batch, counts = list(findings), Counter[str]()
        with _cyclic_gc_paused(), self.store.transaction() as conn:
            try:
                correlator, out = self._current(conn), Changes()
                fresh, repeated = seen.unseen(conn, batch)
                for finding in fresh:
                    counts[correlator.feed(finding, out).result] += 1
                out.created, out.salt = correlator.created, correlator.salt
                repo.write(conn, out, self.settings.timeline_cap, self.settings.fingerprint_cap)
                seen.mark(conn, fresh, self.clock.now())
                if checkpoint is not None:
                    checkpoint.write(conn)
            except BaseException:
                self._correlator = None  # memory ran ahead of the store: reload next time
                raise
        return RecordResult(
            counts["created"],
            counts["merged"],
            counts["pending"],
            counts["ignored"],
            tuple(i.id for i in out.dirty.values()),
            repeated,
        )

    def _current(self, conn: sqlite3.Connection) -> Correlator:
        """The correlator, reloaded when the store changed under another connection."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            self._correlator, self._version = None, version
        return self.correlator

    # -- reading --------------------------------------------------------------------------------

    def list(self, query: ListQuery) -> IncidentPage:
        statuses = _statuses(query.status)
        limit = None if query.all else min(max(query.limit, 1), MAX_LIMIT)
        now = self.clock.now()
        where = repo.Filter(
            statuses=statuses,
            kind=query.kind,
            account=query.account,
            severity=query.severity,
            updated_before=now - query.older_than if query.older_than else None,
            updated_after=now - query.newer_than if query.newer_than else None,
        )
        found, total = repo.page(self.store, where, limit=limit, offset=max(query.offset, 0))
        return IncidentPage(
            tuple(i.view() for i in found), total, max(query.offset, 0), limit, query.status
        )

    def show(self, incident_id: str) -> IncidentDetail:
        incident = self._get(incident_id)
        return IncidentDetail(
            incident.view(),
            tuple(repo.fingerprints(self.store, incident)),
            tuple(repo.timeline(self.store, incident)),
            tuple(repo.actions(self.store, incident.num)),
            self._closing(incident) if incident.status.active else None,
        )

    def _closing(self, incident: LiveIncident) -> Closing:
        """What resolving ``incident`` needs now: the guard's conditions, then a backup."""
        unmet = list(self.guard.check(incident).unmet)
        due = self.backup_due()
        if due is not None:
            unmet.append(Unmet("backup", due.message, due.fix or ""))
        return Closing(not unmet, tuple(unmet))

    # -- operator actions -----------------------------------------------------------------------

    def review(self, incident_id: str, note: str, who: str) -> Review:
        if not note.strip():
            raise UsageError("a review needs a note: --note TEXT (what you checked)")
        incident, now = self._get(incident_id), self.clock.now()
        with self.store.transaction() as conn:
            repo.add_review(conn, now, who, incident.id, incident.account, note)
            action = ActionRow(incident.num, now, "incident_reviewed", note, who)
            repo.insert_actions(conn, [action])
        self.audit.record(who, "incident.review", incident.id, {"note": note})
        return Review(incident.id, incident.account, note, who)

    def review_account(self, account: str, note: str, who: str) -> Review:
        """An operator's review of a whole account: input (a) of the close guard for every
        incident of the account created before it."""
        if not note.strip():
            raise UsageError("a review needs a note: --note TEXT (what you checked)")
        with self.store.transaction() as conn:
            repo.add_review(conn, self.clock.now(), who, None, account, note)
        self.audit.record(who, "account.review", account, {"note": note})
        return Review("", account, note, who)

    def note(self, account: str, action: str, details: str, who: str) -> tuple[str, ...]:
        """Put an operator action (a queue removal, a hold) on the timeline of each of the
        account's active incidents; their ids."""
        incidents = [self._get(i.id) for i in self.active_for(account)] if account else []
        now = self.clock.now()
        with self.store.transaction() as conn:
            repo.insert_actions(
                conn, [ActionRow(i.num, now, action, details, who) for i in incidents]
            )
        return tuple(i.id for i in incidents)

    def note_on(
        self, incident_ids: Sequence[str], action: str, details: str, who: str
    ) -> tuple[str, ...]:
        """Put a server-wide action (a mail stop) on the timeline of each of these incidents
        (an unknown id is an error before anything is written); their ids."""
        incidents = [self._get(i) for i in incident_ids]
        now = self.clock.now()
        with self.store.transaction() as conn:
            repo.insert_actions(
                conn, [ActionRow(i.num, now, action, details, who) for i in incidents]
            )
        return tuple(i.id for i in incidents)

    def active_of_kinds(self, kinds: Sequence[str]) -> tuple[str, ...]:
        """The ids of the active incidents of these kinds, newest activity first."""
        found: list[str] = []
        for kind in kinds:
            query = ListQuery(status="active", kind=kind, all=True)
            found += [i.id for i in self.list(query).items]
        return tuple(found)

    def open_mailboxes(self, account: str | None) -> tuple[str, ...]:
        """The mailboxes named by the account's active incidents (every account's: None)."""
        return tuple(repo.active_mailboxes(self.store.conn, account))

    def active_for(self, account: str) -> tuple[Incident, ...]:
        """The account's active incidents, newest activity first."""
        return self.list(ListQuery(status="active", account=account, all=True)).items

    def oldest_active(self, account: str) -> datetime | None:
        """When the account's oldest active incident began."""
        return min((i.created_at for i in self.active_for(account)), default=None)

    def set_status(
        self, incident_id: str, to: Status, details: str, who: str
    ) -> lifecycle.StatusChange:
        incident = self._get(incident_id)
        if incident.status is to:
            return lifecycle.StatusChange(incident.id, to, to, False)
        lifecycle.check_reason(to, details)
        self._require_backup()
        verdict = lifecycle.guard_verdict(self.guard, incident, to)
        if not verdict.allowed:
            raise lifecycle.refusal([verdict])
        with self.store.transaction() as conn:
            change = lifecycle.apply(
                conn, incident, lifecycle.Move(to, self.clock.now(), who, details)
            )
        self._correlator = None
        record = {"from": change.from_status.value, "to": to.value, "details": details}
        self.audit.record(who, "incident.status", incident.id, record)
        return change

    def bulk_status(self, request: bulk.BulkRequest, who: str) -> bulk.BulkResult:
        if request.apply:
            self._require_backup()
        result = bulk.run(self.store, self.guard, self.audit, request, self.clock.now(), who)
        if result.updated:
            self._correlator = None
        return result

    def sweep(self, *, apply: bool) -> SweepResult:
        result = Sweeper(self.store, self.settings, self.guard, self.audit).run(
            self.clock.now(), apply=apply
        )
        if apply:  # closures unbind keys; pruned sightings must leave memory too
            self._correlator = None
        return result

    def backup_due(self) -> RefusedError | None:
        """Why incident state may not change now for want of a recent CSM backup (the
        runbook's rule: take one first), with the command that takes it; None when one is
        recent enough or the rule is off."""
        window = self.settings.require_backup_within
        if not window:
            return None
        now = self.clock.now()
        latest = backups.latest(self.store.conn)
        if latest is not None and latest.created_at >= now - window:
            return None
        last = (
            f"the latest is from {isoformat(latest.created_at)}" if latest else "none is recorded"
        )
        return RefusedError(
            "take a CSM backup before changing incident state (incidents.require_backup_within:"
            f" {duration.render(window)}): {last}",
            fix=f"csm backup /root/csm-backups/csm-pre-change-{now:%Y%m%d%H%M%S}.tar.gz",
        )

    def _require_backup(self) -> None:
        due = self.backup_due()
        if due is not None:
            raise due

    def _get(self, incident_id: str) -> LiveIncident:
        incident = repo.get(self.store, incident_id)
        if incident is None:
            raise NotFoundError(f"incident: not found: {incident_id}")
        return incident


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A batch allocates many short-lived, acyclic objects (rows, tuples): reference counting
    frees them all, and pausing the cyclic collector for the batch saves ~20% of its time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _statuses(status: str) -> tuple[Status, ...]:
    if status == "all":
        return ()
    if status == "active":
        return (Status.OPEN, Status.CONTAINED)
    return (Status(status),)
