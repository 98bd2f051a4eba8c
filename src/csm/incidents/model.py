"""Findings, incidents and their parts: severities, kinds, statuses, keys, timelines, actions."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class Severity(enum.StrEnum):
    WARNING = "WARNING"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.WARNING: 0, Severity.HIGH: 1, Severity.CRITICAL: 2}


class Kind(enum.StrEnum):
    WEB_ATTACK = "web_attack"
    MAILBOX_BRUTEFORCE = "mailbox_bruteforce"
    WEB_ACCOUNT_COMPROMISE = "web_account_compromise"
    MAILBOX_TAKEOVER = "mailbox_takeover"
    POST_EXPLOIT_PROCESS = "post_exploit_process"
    CREDENTIAL_SPRAY = "credential_spray"
    HOST_INTEGRITY_RISK = "host_integrity_risk"
    HOST_TAKEOVER = "host_takeover"

    @property
    def rank(self) -> int:
        """Kinds only escalate: attack < account compromise < mailbox takeover < host takeover."""
        return _KIND_RANK[self]


_KIND_RANK = {
    Kind.WEB_ATTACK: 0,
    Kind.MAILBOX_BRUTEFORCE: 0,
    Kind.WEB_ACCOUNT_COMPROMISE: 1,
    Kind.MAILBOX_TAKEOVER: 2,
    Kind.POST_EXPLOIT_PROCESS: 3,
    Kind.CREDENTIAL_SPRAY: 3,
    Kind.HOST_INTEGRITY_RISK: 4,
    Kind.HOST_TAKEOVER: 5,
}


class Status(enum.StrEnum):
    OPEN = "open"
    CONTAINED = "contained"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"

    @property
    def active(self) -> bool:
        return self in (Status.OPEN, Status.CONTAINED)


class ClosedBy(enum.StrEnum):
    OPERATOR = "operator"
    STALE = "auto:stale"
    AGE_CAP = "auto:age_cap"
    ACTIVE_CAP = "auto:active_cap"


_TEXT_FIELDS = ("check", "message", "account", "domain", "mailbox", "remote_ip", "path", "process")


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation by a detector.  ``time`` is when it happened (from the log line or file),
    never when it was processed; ``process`` is the executable path or command name."""

    check: str
    severity: Severity
    message: str
    time: datetime
    account: str = ""
    domain: str = ""
    mailbox: str = ""
    remote_ip: str = ""
    path: str = ""
    pid: int = 0
    uid: int = 0
    process: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    # The observation's deterministic id where its source has one (a log file's head and the
    # finding's place in it): recording the same origin twice records it once.
    origin: str = ""

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError("a finding's time must be timezone-aware")
        if not self.check:
            raise ValueError("a finding needs a check name")
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if not value.isascii():  # text from logs and file names: keep it storable
                object.__setattr__(self, name, value.encode("utf-8", "replace").decode("utf-8"))

    @property
    def fingerprint(self) -> str:
        """A stable id of this observation: the same finding always hashes the same."""
        at = self.time if self.time.tzinfo is UTC else self.time.astimezone(UTC)
        details = json.dumps(self.details, sort_keys=True, default=str) if self.details else ""
        text = (
            f"{self.check}\x1f{self.severity}\x1f{self.message}\x1f{at.isoformat()}\x1f"
            f"{self.account}\x1f{self.domain}\x1f{self.mailbox}\x1f{self.remote_ip}\x1f"
            f"{self.path}\x1f{self.pid}\x1f{self.uid}\x1f{self.process}\x1f{details}"
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CorrelationKey:
    """What ties findings to one incident.  ``encode()`` is collision-free (length-prefixed)."""

    host: str = ""
    account: str = ""
    domain: str = ""
    mailbox: str = ""
    uid: int = 0
    pid: int = 0
    remote_ip: str = ""

    def _pairs(self) -> tuple[tuple[str, str | int], ...]:
        return (
            ("host", self.host),
            ("account", self.account),
            ("domain", self.domain),
            ("mailbox", self.mailbox),
            ("uid", self.uid),
            ("pid", self.pid),
            ("remote_ip", self.remote_ip),
        )

    def fields(self) -> dict[str, str | int]:
        return {name: value for name, value in self._pairs() if value}

    def encode(self) -> str:
        return "".join(f"{name}{len(str(v))}:{v};" for name, v in self._pairs() if v)

    @property
    def empty(self) -> bool:
        return not (self.host or self.names_account or self.uid or self.pid or self.remote_ip)

    @property
    def ip_only(self) -> bool:
        owner = self.host or self.names_account or self.uid or self.pid
        return bool(self.remote_ip) and not owner

    @property
    def names_account(self) -> bool:
        """Keyed by a hosting account or mailbox (a customer's credentials may be at stake)."""
        return bool(self.account or self.mailbox or self.domain)

    @classmethod
    def decode(cls, data: Mapping[str, Any]) -> CorrelationKey:
        return cls(**{k: v for k, v in data.items() if k in _KEY_FIELDS})


_KEY_FIELDS = {"host", "account", "domain", "mailbox", "uid", "pid", "remote_ip"}


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    time: datetime
    kind: str  # "finding" or "truncated"
    check: str = ""
    severity: Severity | None = None
    message: str = ""
    finding_id: str = ""
    pid: int = 0
    uid: int = 0
    process: str = ""
    path: str = ""
    remote_ip: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    time: datetime
    action: str
    result: str
    details: str
    who: str


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    kind: Kind
    status: Status
    severity: Severity
    account: str
    domain: str
    mailbox: str
    correlation_key: dict[str, str | int]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    compound_flags: dict[str, bool]
    finding_count: int
    spray_targets: int = 0


@dataclass(frozen=True, slots=True)
class IncidentDetail:
    incident: Incident
    findings: tuple[str, ...]
    timeline: tuple[TimelineEvent, ...]
    actions: tuple[Action, ...]
    closing: Closing | None = None  # an active incident's: what resolving it still needs


@dataclass(frozen=True, slots=True)
class Unmet:
    """One condition of the close guard that is not met: why, and the command that meets it."""

    condition: str  # "review", "credentials", "scan" (or "backup": the backup rule)
    reason: str
    fix: str


@dataclass(frozen=True, slots=True)
class Closing:
    """Whether an active incident may be resolved now; if not, exactly what is missing (the
    close guard's conditions, then the backup rule's)."""

    allowed: bool
    unmet: tuple[Unmet, ...]


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What recording a batch of findings did: incidents created and merged into, findings
    held pending (below the open threshold) and ignored, and the incidents touched."""

    created: int
    merged: int
    pending: int
    ignored: int
    incidents: tuple[str, ...]
    repeated: int = 0  # findings left out: their origin was recorded before
