"""Queue actions on reviewed messages, recoverably, verified by reading the spool again.

- remove: only ids with a recorded ``remove`` decision; each message's ``-H`` and ``-D`` are
  copied to the quarantine (sha256, owner, mode) before ``exim -Mrm``; ``restore`` puts them
  back intact;
- thaw / release: only ids with a recorded ``release`` decision (release also asks Exim to
  deliver it now);
- and only decisions that rest on a recorded review of the message or on an approval
  (:class:`~csm.mailqueue.decisions.ReviewedIdsOnly`), never on neither;
- freeze: containment, always allowed.
Remove, thaw and release also need each sender account's credentials rotated or deferred
(the runbook's gate), or ``--approve "reason"`` for this action, which is recorded.  Exim's exit
status is not proof: what left (or stayed) is read back from the spool.  A message already gone
is reported, not an error.  Every action is audited and noted on the account's incidents."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

from csm.audit import AuditLog
from csm.clock import Clock
from csm.errors import NotFoundError, RefusedError
from csm.identifiers import queue_message_id as message_id
from csm.mailqueue import repo
from csm.mailqueue.decisions import ReviewedIdsOnly
from csm.mailqueue.gate import Gate
from csm.mailqueue.model import QueuedMessage
from csm.mailqueue.quarantined import QuarantinedMessages
from csm.mailqueue.source import Action, QueueSource
from csm.mailqueue.spoolcopy import Copied
from csm.store.db import Store

BATCH: Final = 100
NEEDS: Final = {"remove": "remove", "thaw": "release", "release": "release"}


@dataclass(slots=True)
class Outcome:
    action: str
    done: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # no longer queued: nothing to do
    failed: dict[str, str] = field(default_factory=dict)  # id -> why
    approval: str = ""


@dataclass(frozen=True, slots=True)
class Planned:
    id: str
    account: str
    sender: str
    subject: str


@dataclass(frozen=True, slots=True)
class Preview:
    """What an action would meet, nothing changed: the checks' refusal (decisions, reviews),
    else the accounts whose credentials gate holds it (it then needs an approval)."""

    action: str
    messages: tuple[Planned, ...]  # still queued
    gone: tuple[str, ...]
    refused: str  # why it cannot be done at all ("" when it can)
    fix: str
    waiting: tuple[str, ...]  # accounts not rotated or deferred: needs --approve "reason"

    @property
    def needs_approval(self) -> bool:
        return bool(self.waiting)


class IncidentNotes(Protocol):
    def note(self, account: str, action: str, details: str, who: str) -> tuple[str, ...]:
        """Put an action on the account's active incidents; their ids."""
        ...


class Owners(Protocol):
    def resolve(self, message: QueuedMessage) -> QueuedMessage:
        """The message, its account filled in."""
        ...


@dataclass
class QueueActions:
    queue: QueueSource
    store: Store
    audit: AuditLog
    clock: Clock
    quarantine: Path  # <quarantine_dir>/queue
    gate: Gate  # whether an account's credentials were rotated or deferred
    notes: IncidentNotes  # each action on the account's incidents
    owners: Owners  # which account a message belongs to

    def remove(self, ids: Sequence[str], who: str, approve: str = "") -> Outcome:
        found, outcome = self._checked("remove", ids, approve)
        for start in range(0, len(found), BATCH):
            self._remove_batch(found[start : start + BATCH], who, outcome)
        return self._finish(outcome, found, who)

    def thaw(
        self, ids: Sequence[str], who: str, approve: str = "", *, deliver: bool = False
    ) -> Outcome:
        action = "release" if deliver else "thaw"
        found, outcome = self._checked(action, ids, approve)
        self._act(found, "thaw", outcome, lambda m: m is not None and not m.frozen)
        if deliver:
            for message in [m for m in found if m.id in outcome.done]:
                self.queue.deliver(message.id)
        return self._finish(outcome, found, who)

    def thaw_contained(self, ids: Sequence[str], who: str, approve: str = "") -> Outcome:
        """Thaw messages CSM's own containment froze (an emergency stop), the caller having
        applied the credentials gate (or ``approve``): no queue decision is needed, since the
        thaw only undoes the containment.  Audited as ``queue.thaw``."""
        outcome = Outcome("thaw", approval=approve.strip())
        found = self._present([message_id(i) for i in ids], outcome)
        self._act(found, "thaw", outcome, lambda m: m is not None and not m.frozen)
        return self._finish(outcome, found, who)

    def freeze(self, ids: Sequence[str], who: str) -> Outcome:
        outcome = Outcome("freeze")
        found = self._present([message_id(i) for i in ids], outcome)
        self._act(found, "freeze", outcome, lambda m: m is not None and m.frozen)
        return self._finish(outcome, found, who)

    def restore(self, ids: Sequence[str], who: str) -> Outcome:
        outcome = Outcome("restore")
        for msgid in (message_id(i) for i in ids):
            self._restore_one(msgid, outcome)
        with self.store.transaction() as conn:
            for msgid in outcome.done:
                repo.restored(conn, msgid, self.clock.now())
        kept = {k.msgid: k for msgid in outcome.done for k in repo.kept(self.store.conn, msgid)}
        self._record(outcome, [(i, kept[i].account) for i in outcome.done], who)
        return outcome

    def preview(self, action: str, ids: Sequence[str]) -> Preview:
        """What ``action`` on ``ids`` would meet (the confirmation step), changing nothing."""
        wanted, refused, fix = [message_id(i) for i in ids], "", ""
        if action in NEEDS:
            try:
                self._decided(action, wanted)
            except RefusedError as exc:
                refused, fix = exc.message, exc.fix or ""
        outcome = Outcome(action)
        found = self._present(wanted, outcome)
        waiting = self._waiting(found) if action in NEEDS and not refused else []
        planned = tuple(Planned(m.id, m.account, m.sender, m.header("Subject")) for m in found)
        return Preview(action, planned, tuple(outcome.gone), refused, fix, tuple(waiting))

    # -- the checks -------------------------------------------------------------------------

    def _checked(
        self, action: str, ids: Sequence[str], approve: str
    ) -> tuple[list[QueuedMessage], Outcome]:
        """The queued messages to act on, after the decision and credentials checks."""
        wanted = self._decided(action, [message_id(i) for i in ids])
        outcome = Outcome(action, approval=approve.strip())
        found = self._present(wanted, outcome)
        if not outcome.approval:
            self._gate(found)
        return found, outcome

    def _decided(self, action: str, wanted: list[str]) -> list[str]:
        """``wanted``, each with a recorded decision for ``action`` that rests on a review."""
        decided = repo.decisions(self.store.conn, wanted)
        needed = NEEDS[action]
        missing = [i for i in wanted if i not in decided or decided[i].decision != needed]
        if missing:
            raise RefusedError(
                f"{len(missing)} message(s) have no recorded `{needed}` decision: "
                + ", ".join(missing[:5])
                + (" …" if len(missing) > 5 else ""),
                fix=f"review them (csm queue review), then: csm queue decide {missing[0]} {needed}"
                ' --note "why"',
            )
        self._reviewed([decided[i] for i in wanted], needed)
        return wanted

    def _reviewed(self, decided: list[repo.Decision], needed: str) -> None:
        unfounded = ReviewedIdsOnly(self.store.conn).unfounded(decided)
        if unfounded:
            shown = ", ".join(unfounded[:5]) + (" …" if len(unfounded) > 5 else "")
            raise RefusedError(
                f"{len(unfounded)} message(s) were decided on no recorded review and no approval:"
                f" {shown}; the runbook allows queue actions on reviewed ids only",
                fix=f"csm queue review, then: csm queue decide {unfounded[0]} {needed} --note"
                ' "why"  (or decide it without review, recorded: --approve "reason")',
            )

    def _waiting(self, found: list[QueuedMessage]) -> list[str]:
        """The accounts of ``found`` whose credentials are not rotated or deferred."""
        return sorted(a for a in {m.account for m in found if m.account} if not self.gate.passes(a))

    def _gate(self, found: list[QueuedMessage]) -> None:
        waiting = self._waiting(found)
        if waiting:
            account = waiting[0]
            raise RefusedError(
                f"the credentials of {', '.join(waiting)} are not rotated or deferred: the"
                " runbook allows no queue action before that",
                fix=f"csm creds rotate {account} --all  (or: csm creds defer {account} --reason"
                ' "…"; or approve this action: --approve "reason")',
            )

    def _present(self, ids: list[str], outcome: Outcome) -> list[QueuedMessage]:
        found = []
        for msgid in ids:
            message = self.queue.message(msgid)
            if message is None:
                outcome.gone.append(msgid)
            else:
                found.append(self.owners.resolve(message))
        return found

    # -- the work ---------------------------------------------------------------------------

    def _remove_batch(self, batch: list[QueuedMessage], who: str, outcome: Outcome) -> None:
        kept: list[QueuedMessage] = []
        for message in batch:
            try:
                copied = self.queue.keep_copy(message.id, self.quarantine / message.id)
            except FileNotFoundError:
                outcome.gone.append(message.id)
                continue
            except OSError as exc:  # a pipe or a link where a spool file should be: not taken
                outcome.failed[message.id] = f"not copied to the quarantine, left queued: {exc}"
                continue
            self._keep(message, copied, who, outcome.approval)
            kept.append(message)
        self._act(kept, "remove", outcome, lambda m: m is None)
        for message in kept:
            if message.id not in outcome.done:
                self._forget(message.id)  # still queued (or delivered meanwhile): no copy kept

    def _act(
        self,
        messages: list[QueuedMessage],
        action: Action,
        outcome: Outcome,
        verified: Callable[[QueuedMessage | None], bool],
    ) -> None:
        """The action on the messages in batches of BATCH ids, each batch read back."""
        for start in range(0, len(messages), BATCH):
            batch = messages[start : start + BATCH]
            if batch:
                error = self.queue.act(action, [m.id for m in batch])
                self._verify(batch, action, error, outcome, verified)

    def _verify(
        self,
        batch: list[QueuedMessage],
        action: Action,
        error: str,
        outcome: Outcome,
        verified: Callable[[QueuedMessage | None], bool],
    ) -> None:
        for message in batch:
            after = self.queue.message(message.id)
            if verified(after):
                outcome.done.append(message.id)
            elif after is None:
                outcome.gone.append(message.id)
            else:
                outcome.failed[message.id] = error or f"{action} left it unchanged"

    @property
    def quarantined(self) -> QuarantinedMessages:
        """The removed messages kept in the quarantine."""
        return QuarantinedMessages(self.store, self.quarantine, self.audit)

    def _keep(self, message: QueuedMessage, copied: Copied, who: str, approval: str) -> None:
        subject = message.header("Subject")
        kept = repo.Kept(
            message.id,
            message.account,
            message.sender,
            subject,
            copied,
            self.clock.now(),
            who,
            approval,
        )
        with self.store.transaction() as conn:
            repo.keep(conn, kept)

    def _forget(self, msgid: str) -> None:
        with self.store.transaction() as conn:
            repo.forget(conn, msgid)
        shutil.rmtree(self.quarantine / msgid, ignore_errors=True)  # CSM's own copy only

    def _restore_one(self, msgid: str, outcome: Outcome) -> None:
        records = [k for k in repo.kept(self.store.conn, msgid) if k.restored_at is None]
        if not records:
            raise NotFoundError(f"{msgid} is not in the queue quarantine (or already restored)")
        if self.queue.message(msgid) is not None:
            outcome.failed[msgid] = "a message with this id is queued: not restored over it"
            return
        self.queue.put_back(self.quarantine / msgid, records[0])
        if self.queue.message(msgid) is None:
            outcome.failed[msgid] = "written back, but the spool does not read it"
        else:
            outcome.done.append(msgid)

    def _finish(self, outcome: Outcome, found: list[QueuedMessage], who: str) -> Outcome:
        accounts = {m.id: m.account for m in found}
        self._record(outcome, [(i, accounts.get(i, "")) for i in outcome.done], who)
        return outcome

    def _record(self, outcome: Outcome, done: list[tuple[str, str]], who: str) -> None:
        details = {"gone": outcome.gone, "failed": outcome.failed, "approval": outcome.approval}
        targets = [(msgid, {**details, "account": account}) for msgid, account in done]
        targets += [(msgid, {**details, "result": "failed"}) for msgid in outcome.failed]
        if targets:
            self.audit.record_many(who, f"queue.{outcome.action}", targets)
        for account in sorted({a for _, a in done if a}):
            ids = [i for i, a in done if a == account]
            text = f"{outcome.action} {len(ids)} queued message(s): {', '.join(ids[:10])}"
            if outcome.approval:
                text += f" (approved: {outcome.approval})"
            self.notes.note(account, f"queue_{outcome.action}", text, who)
