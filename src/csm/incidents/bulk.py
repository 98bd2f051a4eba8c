"""``csm incidents bulk-status``: previews by default; bounded, oldest first, guarded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from csm.audit import AuditLog
from csm.errors import UsageError
from csm.incidents import lifecycle, repo
from csm.incidents.guard import CloseGuard
from csm.incidents.live import LiveIncident
from csm.incidents.model import Kind, Severity, Status, Unmet
from csm.store.db import Store

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
SOURCES = {
    "active": (Status.OPEN, Status.CONTAINED),
    "open": (Status.OPEN,),
    "contained": (Status.CONTAINED,),
}


@dataclass(frozen=True, slots=True)
class BulkRequest:
    older_than: timedelta | None = None
    last_seen_before: datetime | None = None
    status: str = "active"
    to: Status = Status.RESOLVED
    kind: str | None = None
    domain: str | None = None
    account: str | None = None
    mailbox: str | None = None
    limit: int = DEFAULT_LIMIT
    apply: bool = False
    confirm: bool = False
    details: str = "bulk incident cleanup"

    def validate(self) -> None:
        if self.older_than is None and self.last_seen_before is None:
            raise UsageError(
                "an age guard is required: --older-than DURATION or --last-seen-before TIME"
            )
        if self.older_than is not None and self.older_than < timedelta(seconds=1):
            raise UsageError("--older-than must be at least 1s")
        if self.status not in SOURCES:
            raise UsageError("--status must be active, open or contained")
        if self.to not in (Status.RESOLVED, Status.DISMISSED):
            raise UsageError("--to must be resolved or dismissed")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}")
        if self.apply and not self.confirm:
            raise UsageError("--apply changes incidents: add --confirm to go ahead")
        lifecycle.check_reason(self.to, self.details)


@dataclass(frozen=True, slots=True)
class BulkItem:
    id: str
    kind: Kind
    status: Status
    new_status: Status
    severity: Severity
    domain: str
    account: str
    mailbox: str
    created_at: datetime
    last_seen_at: datetime
    result: str  # "would_change", "changed" or "blocked"
    unmet: tuple[Unmet, ...] = ()


@dataclass(frozen=True, slots=True)
class BulkResult:
    dry_run: bool
    matched: int
    updated: int
    blocked: int
    limit: int
    status: str
    to: Status
    older_than_seconds: int | None
    last_seen_before: datetime | None
    items: tuple[BulkItem, ...]


def run(
    store: Store, guard: CloseGuard, audit: AuditLog, request: BulkRequest, now: datetime, who: str
) -> BulkResult:
    request.validate()
    where = repo.Filter(
        statuses=SOURCES[request.status],
        kind=request.kind,
        account=request.account,
        domain=request.domain,
        mailbox=request.mailbox,
        updated_before=_cutoff(request, now),
    )
    with store.transaction() as conn:  # matching and changing under one write lock
        found, matched = repo.page(store, where, limit=request.limit, offset=0, newest_first=False)
        items = []
        for incident in found:
            verdict = lifecycle.guard_verdict(guard, incident, request.to)
            result = _result(verdict.allowed, request.apply)
            items.append(_item(incident, request.to, result, verdict.unmet))
            if result == "changed":
                move = lifecycle.Move(request.to, now, who, request.details)
                lifecycle.apply(conn, incident, move)
    changed = [i for i in items if i.result == "changed"]
    audit.record_many(who, "incident.status", [(i.id, _audit(i, request.details)) for i in changed])
    return BulkResult(
        dry_run=not request.apply,
        matched=matched,
        updated=len(changed),
        blocked=sum(1 for i in items if i.result == "blocked"),
        limit=request.limit,
        status=request.status,
        to=request.to,
        older_than_seconds=int(request.older_than.total_seconds()) if request.older_than else None,
        last_seen_before=request.last_seen_before,
        items=tuple(items),
    )


def _cutoff(request: BulkRequest, now: datetime) -> datetime:
    bounds = [now - request.older_than] if request.older_than else []
    if request.last_seen_before is not None:
        bounds.append(request.last_seen_before)
    return min(bounds)


def _result(allowed: bool, apply: bool) -> str:
    if not allowed:
        return "blocked"
    return "changed" if apply else "would_change"


def _audit(item: BulkItem, details: str) -> dict[str, str]:
    return {
        "from": item.status.value,
        "to": item.new_status.value,
        "details": details,
        "via": "bulk-status",
    }


def _item(incident: LiveIncident, to: Status, result: str, unmet: tuple[Unmet, ...]) -> BulkItem:
    """The incident as matched (before any change)."""
    return BulkItem(
        id=incident.id,
        kind=incident.kind,
        status=incident.status,
        new_status=to,
        severity=incident.severity,
        domain=incident.domain,
        account=incident.account,
        mailbox=incident.mailbox,
        created_at=incident.created_at,
        last_seen_at=incident.updated_at,
        result=result,
        unmet=unmet,
    )
