"""The close guard: the runbook's "do not close incidents until the account was reviewed,
credentials were rotated or explicitly deferred, and a fresh scan is clean".

One component asks three small interfaces, each answered from the store:
(a) an operator review of the incident or its account, after the incident was created;
(b) the account's credentials rotated, or rotation deferred with a reason, after it was created;
(c) a complete, clean scan of the account finished after (b).
Incidents keyed by an attacker (remote IP), the host, or a process need only (a).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from csm.incidents import repo
from csm.incidents.live import LiveIncident
from csm.incidents.repo import ts
from csm.store.db import Store


@dataclass(frozen=True, slots=True)
class Unmet:
    condition: str  # "review", "credentials" or "scan"
    reason: str
    fix: str


@dataclass(frozen=True, slots=True)
class Verdict:
    incident_id: str
    unmet: tuple[Unmet, ...]

    @property
    def allowed(self) -> bool:
        return not self.unmet


class Reviews(Protocol):
    def reviewed(self, incident_id: str, account: str, since: datetime) -> datetime | None: ...


class Credentials(Protocol):
    def rotated_or_deferred(
        self, account: str, mailbox: str, since: datetime
    ) -> datetime | None: ...


class Scans(Protocol):
    def clean_scan(self, account: str, since: datetime) -> datetime | None: ...


class CloseGuard:
    def __init__(self, reviews: Reviews, credentials: Credentials, scans: Scans) -> None:
        self.reviews = reviews
        self.credentials = credentials
        self.scans = scans

    def check(self, incident: LiveIncident) -> Verdict:
        since = incident.created_at
        unmet: list[Unmet] = []
        if self.reviews.reviewed(incident.id, incident.account, since) is None:
            unmet.append(_no_review(incident))
        if incident.key.names_account:
            unmet += self._account_conditions(incident, since)
        return Verdict(incident.id, tuple(unmet))

    def _account_conditions(self, incident: LiveIncident, since: datetime) -> list[Unmet]:
        account, mailbox = incident.account, incident.mailbox
        rotated = self.credentials.rotated_or_deferred(account, mailbox, since)
        if rotated is None:
            return [
                _no_rotation(incident),
                _no_scan(incident, "credentials are rotated or deferred"),
            ]
        if not account:
            fix = "map the mailbox to its hosting account, then scan that account"
            return [Unmet("scan", "no hosting account is known for this incident", fix)]
        if self.scans.clean_scan(account, rotated) is None:
            return [_no_scan(incident, f"the rotation/deferral at {ts(rotated)}")]
        return []


def _no_review(incident: LiveIncident) -> Unmet:
    subject = f"account {incident.account}" if incident.account else "this incident"
    return Unmet(
        "review",
        f"{subject} has not been reviewed since the incident was created",
        f'csm incidents review {incident.id} --note "<what you checked>"',
    )


def _no_rotation(incident: LiveIncident) -> Unmet:
    who = incident.account or incident.mailbox
    return Unmet(
        "credentials",
        f"credentials of {who} not rotated or deferred since the incident was created",
        f'csm creds rotate {who}   (or: csm creds defer {who} --reason "<why>")',
    )


def _no_scan(incident: LiveIncident, after: str) -> Unmet:
    account = incident.account or "<account>"
    return Unmet(
        "scan",
        f"no complete, clean scan of {account} after {after}",
        f"csm scan {account}",
    )


def store_guard(store: Store, panel: str = "plain") -> CloseGuard:
    records = repo.GuardRecords(store, panel)
    return CloseGuard(records, records, records)
