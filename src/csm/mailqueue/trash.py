"""``csm queue trash``: matching messages moved to the queue quarantine, where they can be
looked into later and brought back intact (``csm queue restore``), never deleted.

The second procedure moves the whole outbound queue to a trash folder; CSM does the same
recoverably and on reviewed messages only: a message is trashed when a recorded review covers
it and no ``keep`` decision protects it.  The move is the queue's ``remove`` (a ``remove``
decision recorded on that review, the copy with sha256 verified, then ``exim -Mrm``), so the
credentials gate applies (``--approve "reason"`` overrides it, recorded).  Previewed unless
applied; at most ``limit`` messages, oldest first."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Final

from csm.errors import RefusedError, UsageError
from csm.mailqueue import repo
from csm.mailqueue.actions import Outcome, QueueActions
from csm.mailqueue.decisions import QueueDecisions
from csm.mailqueue.model import QueuedMessage
from csm.mailqueue.service import MailQueue

MAX_LIMIT: Final = 100_000


@dataclass(frozen=True, slots=True)
class Selection:
    """Which queued messages: one of sender, account, auth (the SMTP login), all frozen, all
    (the second procedure's "select all of them": still only the reviewed ones)."""

    sender: str | None = None
    account: str | None = None
    auth: str | None = None
    all_frozen: bool = False
    everything: bool = False

    def check(self) -> None:
        chosen = [self.sender, self.account, self.auth, self.all_frozen or None]
        if sum(c is not None for c in [*chosen, self.everything or None]) != 1:
            raise UsageError(
                "choose one of --sender ADDR, --account USER, --auth LOGIN, --all-frozen, --all"
            )

    def matches(self, message: QueuedMessage) -> bool:
        if self.sender is not None:
            return message.sender.lower() == self.sender.lower()
        if self.account is not None:
            return message.account == self.account
        if self.auth is not None:
            return message.auth_id.lower() == self.auth.lower()
        return self.everything or message.frozen

    def describe(self) -> str:
        """The selection as its command-line option says it: ``auth jane@example.com``."""
        if self.sender is not None:
            return f"sender {self.sender}"
        if self.account is not None:
            return f"account {self.account}"
        if self.auth is not None:
            return f"auth {self.auth}"
        return "all" if self.everything else "all-frozen"


@dataclass(frozen=True, slots=True)
class TrashResult:
    selection: str
    applied: bool  # False: a preview
    matched: int  # queued messages the selection matches
    ids: tuple[str, ...]  # reviewed, not kept, within the limit: (to be) trashed
    unreviewed: tuple[str, ...]  # in no recorded review: not trashed
    kept: tuple[str, ...]  # decided `keep`: not trashed
    over_limit: int  # beyond --limit: not trashed this time
    by_account: dict[str, int]  # the ids by account
    waiting: tuple[str, ...]  # accounts whose credentials are not rotated or deferred
    outcome: Outcome | None = None


@dataclass
class Trash:
    queue: MailQueue
    decisions: QueueDecisions
    actions: QueueActions

    def trash(
        self, selection: Selection, who: str, *, limit: int, apply: bool, approve: str = ""
    ) -> TrashResult:
        selection.check()
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"--limit is between 1 and {MAX_LIMIT}")
        matched = sorted(
            (m for m in self.queue.read().messages if selection.matches(m)),
            key=lambda m: (m.received, m.id),
        )
        plan = self._plan(selection, matched, limit)
        if not apply:
            return plan
        if not plan.ids:
            raise RefusedError(
                f"nothing to trash: none of the {plan.matched} matching message(s) is in a"
                " recorded review without a keep decision",
                fix=f"csm queue review  (then: csm queue trash --{selection.describe()}"
                " --apply --confirm)",
            )
        if plan.waiting and not approve.strip():  # refused before any decision is recorded
            account = plan.waiting[0]
            raise RefusedError(
                f"the credentials of {', '.join(plan.waiting)} are not rotated or deferred: the"
                " runbook allows no queue action before that (nothing was moved)",
                fix=f"csm creds rotate {account} --all  (or: csm creds defer {account} --reason"
                ' "…"; or approve this move: --approve "reason")',
            )
        note = f"moved to the trash ({selection.describe()})"
        self.decisions.decide(plan.ids, "remove", note, who)
        outcome = self.actions.remove(plan.ids, who, approve)
        return replace(plan, applied=True, outcome=outcome)

    def _plan(self, selection: Selection, matched: list[QueuedMessage], limit: int) -> TrashResult:
        conn = self.actions.store.conn
        ids = [m.id for m in matched]
        covered = repo.reviews_of(conn, ids)
        decided = repo.decisions(conn, ids)
        kept = [i for i in ids if i in decided and decided[i].decision == "keep"]
        unreviewed = [i for i in ids if i not in covered and i not in kept]
        chosen = [m for m in matched if m.id in covered and m.id not in kept]
        accounts = Counter(m.account for m in chosen[:limit])
        waiting = [a for a in sorted(accounts) if a and not self.actions.gate.passes(a)]
        return TrashResult(
            selection.describe(),
            False,
            len(matched),
            tuple(m.id for m in chosen[:limit]),
            tuple(unreviewed),
            tuple(kept),
            max(0, len(chosen) - limit),
            dict(accounts.most_common()),
            tuple(waiting),
        )
