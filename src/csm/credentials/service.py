"""Credentials of an account: the plan, deferral with a reason, rotation, and the status the
close guard and the mail queue rely on.  Also ``csm accounts show``, which joins the account's
inventory with its open incidents and credential status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from csm import mysql
from csm.accounts.model import Account
from csm.accounts.service import Accounts
from csm.audit import AuditLog
from csm.clock import Clock
from csm.credentials import plan as planning
from csm.credentials import repo, wordpress
from csm.credentials.model import Deferral, Event, Plan
from csm.errors import CsmError, NotFoundError, UsageError
from csm.host import Host
from csm.incidents.model import Incident
from csm.incidents.repo import GuardRecords
from csm.incidents.service import Incidents


@dataclass(frozen=True, slots=True)
class AccountDetail:
    """``csm accounts show``: the inventory, the open incidents and the credentials."""

    account: Account
    incidents: tuple[Incident, ...]
    credentials: Plan


@dataclass
class Credentials:
    host: Host
    accounts: Accounts
    incidents: Incidents
    audit: AuditLog
    clock: Clock
    database: Callable[[], mysql.Credentials]  # the server's admin login, read when needed
    db_timeout: float = 5.0

    @property
    def gate(self) -> GuardRecords:
        """Credentials handled for an account since a time (the close guard's input (b))."""
        return GuardRecords(self.incidents.store, self.accounts.panel)

    def plan(self, user: str) -> Plan:
        account = self.accounts.get(user)
        notes: list[str] = []
        admins = self._admins(account, notes)
        flagged = self.incidents.open_mailboxes(account.user)
        listed = planning.items(account, flagged, admins, planning.env_secrets(self.host, account))
        events = repo.events(self.incidents.store.conn, account.user)
        return planning.with_state(account, listed, events, notes)

    def detail(self, user: str) -> AccountDetail:
        account = self.accounts.get(user)
        return AccountDetail(account, self.incidents.active_for(account.user), self.plan(user))

    def defer(self, user: str, wanted: Sequence[str], reason: str, who: str) -> Deferral:
        """Record that rotation of ``wanted`` (every item when empty) is deferred, and why."""
        if not reason.strip():
            raise UsageError("a deferral needs a reason: --reason TEXT (why not now)")
        current = self.plan(user)
        ids = self._pick(current, wanted)
        now = self.clock.now()
        with self.incidents.store.transaction() as conn:
            for item in ids:
                repo.add(conn, Event(current.account, item, "deferred", now, who, reason))
        self.audit.record(who, "credentials.defer", current.account,
                          {"items": list(ids), "reason": reason})  # fmt: skip
        return Deferral(current.account, ids, reason)

    def _pick(self, current: Plan, wanted: Sequence[str]) -> tuple[str, ...]:
        known = {item.id for item in current.items}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise NotFoundError(
                f"not a credential of {current.account}: {', '.join(unknown)}",
                fix=f"csm creds plan {current.account}   # the items and their ids",
            )
        return tuple(wanted) if wanted else tuple(item.id for item in current.items)

    def _admins(self, account: Account, notes: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for site in account.sites:
            name = planning.site_name(account, site)
            try:
                found[name] = wordpress.admins(self.database(), site, self.db_timeout)
            except CsmError as exc:
                notes.append(f"WordPress administrators of {name} not listed: {exc.message}")
        return found
