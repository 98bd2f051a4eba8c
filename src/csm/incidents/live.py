"""The correlator's working state: active incidents as mutable records, and the batch of
changes one ``record()`` call writes in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from csm.incidents.model import ClosedBy, CorrelationKey, Finding, Incident, Kind, Severity, Status


@dataclass(slots=True)
class LiveIncident:
    num: int  # the store's creation number; timelines and actions hang off it
    id: str
    kind: Kind
    status: Status
    severity: Severity
    key: CorrelationKey
    created_at: datetime
    updated_at: datetime
    account: str = ""
    domain: str = ""
    mailbox: str = ""
    closed_at: datetime | None = None
    closed_by: str | None = None
    flags: set[str] = field(default_factory=set)
    finding_count: int = 0
    event_seq: int = 0
    event_count: int = 0
    events_elided: int = 0
    fingerprint_count: int = 0
    findings_elided: int = 0
    spray_targets: int = 0
    key_text: str = field(init=False, repr=False)
    key_json: str = field(init=False, repr=False)
    ip_only: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.key_text = self.key.encode()
        self.key_json = json.dumps(self.key.fields(), sort_keys=True)
        self.ip_only = self.key.ip_only

    def view(self) -> Incident:
        return Incident(
            id=self.id,
            kind=self.kind,
            status=self.status,
            severity=self.severity,
            account=self.account,
            domain=self.domain,
            mailbox=self.mailbox,
            correlation_key=self.key.fields(),
            created_at=self.created_at,
            updated_at=self.updated_at,
            closed_at=self.closed_at,
            closed_by=self.closed_by,
            compound_flags=dict.fromkeys(sorted(self.flags), True),
            finding_count=self.finding_count,
            spray_targets=self.spray_targets,
        )

    def close(self, to: Status, at: datetime, by: ClosedBy) -> None:
        self.status = to
        self.closed_at = self.closed_at or at
        self.closed_by = self.closed_by or by.value

    def reopen(self, to: Status) -> None:
        self.status = to
        self.closed_at = None
        self.closed_by = None


@dataclass(frozen=True, slots=True)
class ActionRow:
    incident: int
    time: datetime
    action: str
    details: str
    who: str
    result: str = "ok"


@dataclass(slots=True)
class Changes:
    """Everything one batch changes, written together by the repository."""

    dirty: dict[int, LiveIncident] = field(default_factory=dict)
    events: list[tuple[int, int, Finding, str]] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    pending: dict[str, list[Finding]] = field(default_factory=dict)
    pending_cleared: set[str] = field(default_factory=set)
    truncate: set[int] = field(default_factory=set)
    new: set[int] = field(default_factory=set)  # created in this batch: inserted
    rekeyed: set[int] = field(default_factory=set)  # indexed columns changed: fully rewritten
    created: int = 0  # the store's incident counter after this batch
    salt: int = 0  # the store's incident id salt (kept once, with the first incident)

    def touch(self, incident: LiveIncident) -> None:
        self.dirty[incident.num] = incident

    def act(
        self, incident: LiveIncident, at: datetime, action: str, details: str, who: str
    ) -> None:
        self.actions.append(ActionRow(incident.num, at, action, details, who))
        self.touch(incident)
