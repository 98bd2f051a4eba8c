"""Credentials of an account: the plan, deferral with a reason, rotation, and the status the
close guard and the mail queue rely on.  Also ``csm accounts show``, which joins the account's
inventory with its open incidents and credential status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from csm import mysql, passwords
from csm.accounts.api import CrossCheck, cross_check, merged
from csm.accounts.model import Account, ForeignDatabase
from csm.accounts.service import Accounts
from csm.audit import AuditLog
from csm.clock import Clock
from csm.cpanel import Cpanel
from csm.credentials import plan as planning
from csm.credentials import repo, wordpress
from csm.credentials.model import Deferral, Event, Item, Outcome, Plan, Rotation, Status
from csm.credentials.rotate import Rotator, Rotators
from csm.credentials.secrets import Collected, Keeper, SecretsFile
from csm.errors import CsmError, NotFoundError, UsageError
from csm.host import Host
from csm.incidents.guard import GuardRecords
from csm.incidents.model import Incident
from csm.incidents.service import Incidents


@dataclass(frozen=True, slots=True)
class AccountDetail:
    """``csm accounts show``: the inventory, the open incidents and the credentials."""

    account: Account
    incidents: tuple[Incident, ...]
    credentials: Plan
    cpanel_api: CrossCheck | None = None  # the files checked against cPanel's APIs


@dataclass(frozen=True, slots=True)
class RotateRequest:
    items: tuple[str, ...] = ()
    all: bool = False
    dry_run: bool = False
    length: int = 24
    secrets_out: Path | None = None  # a new root-only file for the new passwords
    show_secrets: bool = False  # the result carries them (``--json --show-secrets``)


class AdminCheck(Protocol):
    def suspicious_admins(self, account: Account) -> set[tuple[str, str]]:
        """(schema, login) of the account's WordPress administrators a scan flags."""
        ...


@dataclass
class Credentials:
    host: Host
    accounts: Accounts
    incidents: Incidents
    audit: AuditLog
    clock: Clock
    database: mysql.Login
    rotators: Rotators  # how items rotate on this host
    cpanel: Cpanel | None = None  # cPanel's APIs, on a cPanel host
    db_timeout: float = 5.0
    homes: str = "/home"  # paths.home_dir: no new password is ever written below it
    # (schema, login) of the account's WordPress administrators a scan finds suspicious
    suspects: AdminCheck | None = None

    @property
    def gate(self) -> GuardRecords:
        """Credentials handled for an account since a time (the close guard's input (b))."""
        return GuardRecords(self.incidents.store, self.accounts.panel)

    def account(self, user: str) -> tuple[Account, CrossCheck | None]:
        """The inventory: the files, and what cPanel's APIs add where they answer."""
        account = self.accounts.get(user)
        if self.cpanel is None:
            return account, None
        checked = cross_check(self.cpanel, account)
        return merged(account, checked), checked

    def plan(self, user: str) -> Plan:
        return self._plan(self.account(user)[0])

    def _plan(self, account: Account) -> Plan:
        notes = [_foreign_note(f) for f in account.foreign]
        admins = self._admins(account, notes)
        flagged = self.incidents.open_mailboxes(account.user)
        listed = planning.items(account, flagged, admins, planning.env_secrets(self.host, account))
        listed, suspected = planning.flag_suspects(account, listed, self._suspects(account, notes))
        notes += suspected
        events = repo.events(self.incidents.store.conn, account.user)
        return planning.with_state(account, listed, events, notes)

    def status(self, user: str) -> Status:
        current = self.plan(user)
        required = sorted(self.gate.required(current.account))
        states = {item.id: item.state for item in current.items}
        waiting = tuple(i for i in required if states.get(i, "pending") == "pending")
        return Status(current, tuple(required), waiting)

    def detail(self, user: str) -> AccountDetail:
        account, checked = self.account(user)
        return AccountDetail(
            account, self.incidents.active_for(account.user), self._plan(account), checked
        )

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
        self.audit.record(
            who, "credentials.defer", current.account, {"items": list(ids), "reason": reason}
        )
        return Deferral(current.account, ids, reason)

    def rotate(
        self,
        user: str,
        request: RotateRequest,
        who: str,
        shown: Keeper | None = None,
        progress: Callable[[Outcome], None] | None = None,
    ) -> Rotation:
        """Rotate the requested items, each on its own: a failure leaves that item as it was
        and does not stop the others; every success is recorded at once.  Each new password
        is first kept (``--secrets-out``, else ``shown``: the terminal) and only then set;
        ``progress`` hears of each item as it is done."""
        account = self.account(user)[0]
        current = self._plan(account)
        if not request.items and not request.all:
            raise UsageError("name the items to rotate, or --all", fix=f"csm creds plan {user}")
        chosen = [i for i in current.items if i.id in self._pick(current, request.items)]
        if request.dry_run:
            return Rotation(current.account, True, tuple(_would(i, self.cpanel) for i in chosen))
        keeper = self._keeper(account, request, shown, any(_new_secret(i) for i in chosen))
        rotator = self.rotators.for_account(account)
        try:
            outcomes: list[Outcome] = []
            for item in chosen:
                outcomes.append(self._rotate_one(rotator, item, request, who, keeper))
                if progress is not None:
                    progress(outcomes[-1])
        finally:
            if isinstance(keeper, SecretsFile):
                keeper.close()
        written = str(keeper.path) if isinstance(keeper, SecretsFile) else ""
        return Rotation(current.account, False, tuple(outcomes), written)

    def _keeper(
        self, account: Account, request: RotateRequest, shown: Keeper | None, needed: bool
    ) -> Keeper:
        """Where the new passwords go before anything changes; refused when nowhere."""
        if request.secrets_out is not None:
            homes = [self.host.path(self.homes), self.host.path(account.home)]
            return SecretsFile.create(request.secrets_out, homes)
        if shown is not None:
            return shown
        if request.show_secrets or not needed:
            return Collected()
        raise UsageError(
            "the new passwords would be neither shown nor stored; nothing was changed",
            fix=f"csm creds rotate {account.user} … --secrets-out /root/<new file>"
            "   (or --show-secrets with --json)",
        )

    def _rotate_one(
        self, rotator: Rotator, item: Item, request: RotateRequest, who: str, keeper: Keeper
    ) -> Outcome:
        if item.method == "manual":
            detail = "rotated where it was issued, not by CSM: record it with csm creds defer"
            return Outcome(item.id, False, item.method, detail, skipped=True)
        secret = passwords.generate(request.length) if _new_secret(item) else ""
        if secret:
            try:
                keeper.keep(item.id, secret)
            except CsmError as exc:
                detail = f"not rotated: the new password could not be kept ({exc.message})"
                return Outcome(item.id, False, item.method, detail)
        try:
            detail = rotator.rotate(item, secret)
        except CsmError as exc:
            failure = {"item": item.id, "method": item.method, "error": exc.message}
            self.audit.record(who, "credentials.rotate_failed", rotator.account.user, failure)
            keeper.settle(Outcome(item.id, False, item.method, exc.message))
            return Outcome(item.id, False, item.method, exc.message)
        event = Event(
            rotator.account.user, item.id, "rotated", self.clock.now(), who, method=item.method
        )
        with self.incidents.store.transaction() as conn:
            repo.add(conn, event)
        self.audit.record(
            who,
            "credentials.rotate",
            rotator.account.user,
            {"item": item.id, "method": item.method},
        )
        done = Outcome(item.id, True, item.method, detail, secret)
        keeper.settle(done)
        return done

    def _pick(self, current: Plan, wanted: Sequence[str]) -> tuple[str, ...]:
        known = {item.id for item in current.items}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise NotFoundError(
                f"not a credential of {current.account}: {', '.join(unknown)}",
                fix=f"csm creds plan {current.account}   # the items and their ids",
            )
        return tuple(wanted) if wanted else tuple(item.id for item in current.items)

    def _suspects(self, account: Account, notes: list[str]) -> set[tuple[str, str]]:
        if self.suspects is None or not account.sites:
            return set()
        try:
            return self.suspects.suspicious_admins(account)
        except CsmError as exc:
            notes.append(f"suspicious WordPress administrators not checked: {exc.message}")
            return set()

    def _admins(self, account: Account, notes: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for site in account.sites:
            name = planning.site_name(account, site)
            try:
                found[name] = wordpress.admins(self.database(), site, self.db_timeout)
            except CsmError as exc:
                notes.append(f"WordPress administrators of {name} not listed: {exc.message}")
        return found


def _foreign_note(found: ForeignDatabase) -> str:
    return f"{found}: not listed or rotated; `csm scan` reports it as a finding"


def _new_secret(item: Item) -> bool:
    """Whether rotating the item makes a password (salts and application keys do not)."""
    return item.method != "manual" and item.kind != "secret"


def _would(item: Item, cpanel: Cpanel | None) -> Outcome:
    if item.method == "manual":
        return Outcome(item.id, False, item.method, "manual: not rotated by CSM", skipped=True)
    absent = cpanel.missing(item.method) if cpanel and item.method in ("uapi", "whmapi1") else ""
    if absent:
        return Outcome(item.id, False, item.method, f"would fail: {item.method} is not at {absent}")
    return Outcome(item.id, True, item.method, f"would rotate ({item.method})")
