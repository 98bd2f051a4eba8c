"""The close guard: the runbook's "do not close incidents until the account was reviewed,
credentials were rotated or explicitly deferred, and a fresh scan is clean".

One component asks three small interfaces, each answered from the store:
(a) an operator review of the incident or its account, after the incident was created;
(b) the account's credentials rotated, or rotation deferred with a reason, after it was created;
(c) a complete, clean scan of the account finished after (b).
Incidents keyed by an attacker (remote IP), the host, or a process need only (a).

:class:`GuardRecords` answers all three from the store with read-only queries: ``reviews`` is
written by :mod:`csm.incidents.repo`, ``credential_events`` by :mod:`csm.credentials.repo`
and ``scan_results`` by :mod:`csm.scan.repo` (layers above this one, which it may not import).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from csm.incidents import repo
from csm.incidents.live import LiveIncident
from csm.incidents.model import Unmet
from csm.store.db import Store
from csm.store.times import parse_ts, ts


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


class GuardRecords:
    """(a), (b) and (c) answered from the store's ``reviews``, ``credential_events`` and
    ``scan_results`` tables (filled by ``incidents review``, the credentials and the scans).

    (b), also the gate for mail queue actions: an account's credentials count as handled after
    ``since`` when every item that matters was rotated or deferred after it: the mailboxes its
    active incidents name, the incident's own mailbox, and the cPanel password on a cPanel
    host.  With none of those, any record after ``since`` does."""

    def __init__(self, store: Store, panel: str = "plain") -> None:
        self.store = store
        self.panel = panel

    def reviewed(self, incident_id: str, account: str, since: datetime) -> datetime | None:
        return self._first(
            "SELECT min(at) FROM reviews WHERE at >= ? AND (incident_id = ?"
            " OR (incident_id IS NULL AND account = ? AND account != ''))",
            (ts(since), incident_id, account),
        )

    def required(self, account: str, mailbox: str = "") -> set[str]:
        """The credential items that must be rotated or deferred for ``account``."""
        needed = {f"mailbox:{m.lower()}" for m in repo.active_mailboxes(self.store.conn, account)}
        if mailbox:
            needed.add(f"mailbox:{mailbox.lower()}")
        if self.panel == "cpanel" and account:
            needed.add(f"cpanel:{account}")
        return needed

    def rotated_or_deferred(self, account: str, mailbox: str, since: datetime) -> datetime | None:
        """When the last required item was handled after ``since``; None while one is open."""
        if not account:  # a mailbox with no known account: that mailbox's own record
            item = f"mailbox:{mailbox.lower()}"
            sql = "SELECT min(at) FROM credential_events WHERE item = ? AND at >= ? AND ? != ''"
            return self._first(sql, (item, ts(since), mailbox))
        needed = self.required(account, mailbox)
        mailboxes = sorted(i for i in needed if i.startswith("mailbox:"))
        marks = ", ".join("?" * len(mailboxes)) or "''"
        rows = self.store.conn.execute(
            "SELECT item, min(at) FROM credential_events WHERE at >= ?"  # noqa: S608 - only ? marks
            f" AND (account = ? OR item IN ({marks})) GROUP BY item",
            (ts(since), account, *mailboxes),
        )
        first = {item: parse_ts(at) for item, at in rows}
        if not needed:
            return min(first.values(), default=None)
        if not needed <= first.keys():
            return None
        return max(first[item] for item in needed)

    def clean_scan(self, account: str, since: datetime) -> datetime | None:
        return self._first(
            "SELECT min(finished_at) FROM scan_results WHERE account = ? AND finished_at >= ?"
            " AND complete = 1 AND clean = 1",
            (account, ts(since)),
        )

    def _first(self, sql: str, params: tuple[str, ...]) -> datetime | None:
        row = self.store.conn.execute(sql, params).fetchone()
        return parse_ts(row[0]) if row and row[0] else None


def store_guard(store: Store, panel: str = "plain") -> CloseGuard:
    records = GuardRecords(store, panel)
    return CloseGuard(records, records, records)
