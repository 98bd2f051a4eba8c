"""``csm mail hold|release|holds``: an account's outgoing mail held as containment.

A hold freezes the account's queued messages and stops new ones leaving: on cPanel through
``whmapi1 hold_outgoing_email``; on other Exim hosts through CSM's held-senders list (one
``*@domain`` per line, atomically rewritten), which the shipped ACL snippet
(``csm/config/exim/hold.acl``) makes Exim defer.  Releasing goes through the credentials gate,
and thaws nothing: the frozen messages wait for their own review (the runbook: only reviewed
ids are thawed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from csm.accounts.model import Account
from csm.accounts.service import Accounts
from csm.audit import AuditLog
from csm.clock import Clock
from csm.cpanel import Cpanel
from csm.errors import RefusedError, UsageError
from csm.mailqueue import repo
from csm.mailqueue.actions import Outcome, QueueActions
from csm.mailqueue.exim import Exim
from csm.mailqueue.spoolcopy import write
from csm.store.db import Store

HELD_MACRO = "CSM_HELD_SENDERS"  # the macro hold.acl reads the list's path from


def held_file(state_dir: Path) -> Path:
    """CSM's held-senders list, read by the ACL snippet on Exim hosts without cPanel."""
    return state_dir / "mail" / "held-senders"


@dataclass(frozen=True, slots=True)
class HoldResult:
    account: str
    method: str
    frozen: Outcome
    still_frozen: int = 0  # on release: the account's messages that stay frozen until reviewed


class Queued(Protocol):
    def ids(self, account: str, *, frozen: bool = False) -> tuple[str, ...]:
        """The account's queued (only its frozen: ``frozen``) message ids."""
        ...


@dataclass
class Holds:
    store: Store
    audit: AuditLog
    clock: Clock
    actions: QueueActions
    exim: Exim  # whether Exim consults the held-senders list
    queued: Queued  # the account's messages in the queue
    cpanel: Cpanel | None  # on a cPanel host
    held_file: Path  # the held-senders list read by the ACL snippet (other hosts)
    accounts: Accounts
    hostname: str  # the server's name: PHP's mail leaves as <user>@<hostname>

    def hold(self, user: str, reason: str, who: str) -> HoldResult:
        account = self.accounts.get(user)
        if any(h.account == user for h in repo.holds(self.store.conn)):
            raise RefusedError(f"{user}'s outgoing mail is already held (csm mail holds)")
        method = self._hold_new(account)
        frozen = self.actions.freeze(self.queued.ids(user), who)
        hold = repo.Hold(user, reason, who, self.clock.now(), method, len(frozen.done))
        with self.store.transaction() as conn:
            repo.add_hold(conn, hold)
        self.audit.record(
            who, "mail.hold", user, {"reason": reason, "method": method, "frozen": len(frozen.done)}
        )
        self.actions.notes.note(user, "mail_hold", f"outgoing mail held ({method}): {reason}", who)
        return HoldResult(user, method, frozen)

    def release(self, user: str, who: str, approve: str = "") -> HoldResult:
        held = [h for h in repo.holds(self.store.conn) if h.account == user]
        if not held:
            raise UsageError(f"{user}'s outgoing mail is not held (csm mail holds)")
        if not approve.strip() and not self.actions.gate.passes(user):
            raise RefusedError(
                f"the credentials of {user} are not rotated or deferred: the hold stays",
                fix=f'csm creds rotate {user} --all  (or: csm creds defer {user} --reason "…";'
                ' or approve: --approve "reason")',
            )
        account = self.accounts.get(user)
        self._release_new(account, held[0].method)
        with self.store.transaction() as conn:
            repo.release_hold(conn, user, self.clock.now(), who)
        details = {"method": held[0].method, "approval": approve.strip()}
        self.audit.record(who, "mail.release", user, details)
        self.actions.notes.note(user, "mail_release", "outgoing mail hold released", who)
        return HoldResult(
            user, held[0].method, Outcome("release"), len(self.queued.ids(user, frozen=True))
        )

    def active(self) -> list[repo.Hold]:
        return repo.holds(self.store.conn)

    def _hold_new(self, account: Account) -> str:
        if self.cpanel is not None:
            self.cpanel.whmapi1("hold_outgoing_email", {"user": account.user})
            return "cpanel"
        before = set(self._senders())
        self._write_held(before | self._patterns(account))
        if not self.exim.defers(f"csm-probe@{account.main_domain}"):
            self._write_held(before)
            raise RefusedError(
                f"Exim does not consult CSM's held-senders list, so a hold would stop nothing;"
                f" {account.user}'s mail is not held and nothing was frozen",
                fix="install the ACL snippet csm/config/exim/hold.acl in Exim's configuration"
                " (`csm doctor` checks it), then hold again",
            )
        return "acl"

    def _release_new(self, account: Account, method: str) -> None:
        if method == "cpanel" and self.cpanel is not None:
            self.cpanel.whmapi1("release_outgoing_email", {"user": account.user})
        elif method == "acl":
            self._write_held(set(self._senders()) - self._patterns(account))

    def _senders(self) -> list[str]:
        try:
            text = self.held_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line.strip() for line in text.splitlines() if line.strip()]

    def _write_held(self, patterns: set[str]) -> None:
        self.held_file.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        content = "".join(f"{p}\n" for p in sorted(patterns)).encode()
        write(self.held_file, content, 0o644)  # Exim reads it as it is, or as it was

    def _patterns(self, account: Account) -> set[str]:
        """The account's domains, and the address its PHP scripts send as."""
        domains = {f"*@{d.lower()}" for d in (*account.domains, *account.sub_domains)}
        return domains | {f"{account.user}@{self.hostname.lower()}"}
