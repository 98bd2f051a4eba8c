"""Outbound: nothing leaves the server, nothing is lost.

Stopping raises the flag first (from then on Exim freezes each new outgoing message and defers
every remote delivery), then freezes what is queued, recording each id before it is frozen:
the record is the list the resume thaws, and a stop cut short (kill -9) is completed by running
it again.  Messages frozen before the stop are not recorded, so they stay frozen after it.

Resuming lowers the flag, then thaws the recorded ids (and the messages that arrived frozen
while the stop lasted, recorded first) whose account's credentials were rotated or deferred,
or all of them with ``--approve "reason"``.  The rest stay frozen and are listed; running the
resume again later thaws those that pass by then.  A message moved to the queue quarantine
(``csm queue trash``) is never released here, even after ``csm queue restore``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from csm.clock import isoformat
from csm.emergency import repo
from csm.emergency.flags import EximFlags, Flags
from csm.emergency.model import AccountCount, Left, ResumeResult, StopResult
from csm.emergency.record import Recorder
from csm.errors import NotFoundError, RefusedError
from csm.mailqueue import repo as queue_repo
from csm.mailqueue.actions import QueueActions
from csm.mailqueue.model import QueuedMessage
from csm.mailqueue.service import MailQueue

MARK: Final = "X-CSM-Emergency"  # the header emergency-outbound.acl adds to what it freezes
PASSES: Final = 2  # reads of the queue while stopping: the second catches the stragglers
TOP: Final = 10  # accounts shown in a stop's breakdown
THAWABLE: Final = ("frozen", "left", "recorded")


@dataclass
class Outbound:
    record: Recorder
    flags: Flags
    exim: EximFlags
    queue: MailQueue
    actions: QueueActions

    def stop(self, reason: str, who: str, *, apply: bool, incident: str | None) -> StopResult:
        stop = self.record.unfinished("outbound")
        installed = self.exim.installed()
        messages = self.queue.read().messages
        waiting = [m for m in messages if not m.frozen]
        missing = tuple(installed.missing("outbound"))
        warnings = (_unread(missing),) if missing else ()
        preview = StopResult(
            "outbound",
            False,
            stop,
            continued=stop is not None,
            to_freeze=len(waiting),
            already_frozen=len(messages) - len(waiting),
            by_account=_by_account(waiting),
            exim_reads_flag=not missing,
            missing=missing,
            warnings=warnings,
        )
        if not apply:
            return preview
        return self._stop(preview, stop or self.record.begin("outbound", reason, who, incident))

    def resume(self, who: str, *, apply: bool, approve: str) -> ResumeResult:
        stop = self._resumable()
        messages = {m.id: m for m in self.queue.read().messages}
        recorded = repo.messages(self.record.store.conn, stop.id)
        known = {r.msgid for r in recorded}
        arrived = [m for m in messages.values() if _arrived(m, stop) and m.id not in known]
        pending = [r for r in recorded if r.state in THAWABLE]
        pending += [
            repo.StopMessage(m.id, m.account, "acl", "frozen", stop.started_at) for m in arrived
        ]
        plan = _Plan.of(pending, messages, self._trashed(pending), self.actions, approve.strip())
        result = ResumeResult(
            "outbound",
            False,
            stop,
            continued=stop.state == "resuming",
            thawed=tuple(plan.thaw),
            left=tuple(plan.left),
            adopted=len(arrived),
            trashed=len(plan.trashed),
            gone=len(plan.gone),
            approval=approve.strip(),
        )
        if not apply:
            return result
        return self._resume(stop, result, arrived, plan, who)

    # -- stopping ---------------------------------------------------------------------------

    def _stop(self, preview: StopResult, stop: repo.Stop) -> StopResult:
        note = {"stop": stop.id, "who": stop.who, "reason": stop.reason}
        self.flags.raise_flag("outbound", json.dumps({**note, "at": isoformat(stop.started_at)}))
        frozen, failed = 0, dict[str, str]()
        for _ in range(PASSES):
            waiting = [m for m in self.queue.read().messages if not m.frozen]
            if not waiting:
                break
            done, failed = self._freeze(stop, waiting)
            frozen += done
        self._settle(stop)
        counts = repo.counts(self.record.store.conn, stop.id)
        stop = self.record.stopped(stop, {"frozen": counts.get("frozen", 0), "failed": failed})
        return StopResult(
            "outbound",
            True,
            stop,
            continued=preview.continued,
            to_freeze=preview.to_freeze,
            frozen=frozen,
            already_frozen=preview.already_frozen,
            by_account=preview.by_account,
            failed=failed,
            exim_reads_flag=preview.exim_reads_flag,
            missing=preview.missing,
            incidents=stop.incidents,
            warnings=preview.warnings,
        )

    def _freeze(self, stop: repo.Stop, waiting: list[QueuedMessage]) -> tuple[int, dict[str, str]]:
        """Record, then freeze: a kill between the two leaves ids recorded and not frozen,
        which the rerun's read finds unfrozen and freezes."""
        store, now = self.record.store, self.record.clock.now()
        with store.transaction() as conn:
            repo.record(
                conn, stop.id, [(m.id, m.account, "queue") for m in waiting], "recorded", now
            )
        outcome = self.actions.freeze([m.id for m in waiting], stop.who)
        with store.transaction() as conn:
            repo.set_message_state(conn, stop.id, outcome.done, "frozen", now)
            repo.set_message_state(conn, stop.id, outcome.gone, "gone", now)
        return len(outcome.done), outcome.failed

    def _settle(self, stop: repo.Stop) -> None:
        """Ids recorded before a kill: frozen by then, or gone."""
        recorded = repo.messages(self.record.store.conn, stop.id, ("recorded",))
        states: dict[str, list[str]] = {"frozen": [], "gone": []}
        for row in recorded:
            message = self.actions.queue.message(row.msgid)
            if message is None:
                states["gone"].append(row.msgid)
            elif message.frozen:
                states["frozen"].append(row.msgid)
        with self.record.store.transaction() as conn:
            for state, ids in states.items():
                repo.set_message_state(conn, stop.id, ids, state, self.record.clock.now())

    # -- resuming ---------------------------------------------------------------------------

    def _resumable(self) -> repo.Stop:
        stop = self.record.open("outbound")
        if stop is not None and stop.state == "stopping":
            raise RefusedError(
                f"the outbound stop {stop.id} was interrupted before it finished",
                fix='complete it first: csm mail stop outbound --reason "…" --apply',
            )
        if stop is not None:
            return stop
        for earlier in repo.stops(self.record.store.conn, "outbound"):
            if repo.counts(self.record.store.conn, earlier.id).get("left"):
                return earlier  # resumed, some left frozen: thaw those that pass now
            break
        raise NotFoundError("outbound mail is not stopped", fix="csm mail emergency status")

    def _resume(
        self,
        stop: repo.Stop,
        result: ResumeResult,
        arrived: list[QueuedMessage],
        plan: _Plan,
        who: str,
    ) -> ResumeResult:
        store, now = self.record.store, self.record.clock.now()
        if stop.open:
            stop = self.record.state(stop, "resuming")
        with store.transaction() as conn:
            repo.record(conn, stop.id, [(m.id, m.account, "acl") for m in arrived], "frozen", now)
            repo.set_message_state(conn, stop.id, plan.trashed, "trashed", now)
            repo.set_message_state(conn, stop.id, plan.gone, "gone", now)
            repo.set_message_state(conn, stop.id, [x.msgid for x in plan.left], "left", now)
        self.flags.lower("outbound")
        outcome = self.actions.thaw_contained(plan.thaw, who, result.approval)
        with store.transaction() as conn:
            repo.set_message_state(conn, stop.id, outcome.done, "thawed", now)
            repo.set_message_state(conn, stop.id, outcome.gone, "gone", now)
        details = {"thawed": len(outcome.done), "left": len(plan.left), "approval": result.approval}
        if stop.state != "resumed":
            self.record.resumed(stop, who, result.approval, details)
        return ResumeResult(
            "outbound",
            True,
            stop,
            continued=result.continued,
            thawed=tuple(outcome.done),
            left=result.left,
            adopted=result.adopted,
            trashed=result.trashed,
            gone=result.gone + len(outcome.gone),
            failed=outcome.failed,
            approval=result.approval,
        )

    def _trashed(self, pending: Sequence[repo.StopMessage]) -> set[str]:
        """The ids ever moved to the queue quarantine (restored or not)."""
        conn = self.record.store.conn
        return {p.msgid for p in pending if queue_repo.kept(conn, p.msgid)}


@dataclass(frozen=True, slots=True)
class _Plan:
    thaw: list[str]
    left: list[Left]
    trashed: list[str]
    gone: list[str]

    @classmethod
    def of(
        cls,
        pending: Sequence[repo.StopMessage],
        queued: dict[str, QueuedMessage],
        trashed: set[str],
        actions: QueueActions,
        approval: str,
    ) -> _Plan:
        plan = cls([], [], [], [])
        for row in pending:
            message = queued.get(row.msgid)
            if row.msgid in trashed:
                plan.trashed.append(row.msgid)
            elif message is None or not message.frozen:
                plan.gone.append(row.msgid)
            elif approval or (message.account and actions.gate.passes(message.account)):
                plan.thaw.append(row.msgid)
            else:
                plan.left.append(Left(row.msgid, message.account, _why(message.account)))
        return plan


def _why(account: str) -> str:
    if not account:
        return 'no hosting account is known for it: thaw it with --approve "reason"'
    return f"the credentials of {account} are not rotated or deferred"


def _arrived(message: QueuedMessage, stop: repo.Stop) -> bool:
    """Frozen by emergency-outbound.acl while ``stop`` lasted."""
    since = int(stop.started_at.timestamp()) - 1
    return message.frozen and message.received >= since and bool(message.header(MARK))


def _by_account(messages: Sequence[QueuedMessage]) -> tuple[AccountCount, ...]:
    counts = Counter(m.account for m in messages)
    return tuple(AccountCount(a, n) for a, n in counts.most_common(TOP))


def _unread(missing: Sequence[str]) -> str:
    return (
        "Exim's configuration does not read CSM's outbound flag, so new submissions would not"
        f" be frozen (missing: {'; '.join(missing)}); the queue alone is frozen. Install the"
        " snippets in csm/config/exim (`csm doctor` checks them)"
    )
