"""The queue's state-changing commands and the per-account holds, as operations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from csm.app import App
from csm.mailqueue.actions import Outcome
from csm.mailqueue.decisions import Decided, Reviewed
from csm.mailqueue.holds import HoldResult
from csm.operations.base import Talk

Action = Literal["remove", "freeze", "restore", "thaw", "release"]


@dataclass(frozen=True, slots=True)
class QueueAction:
    """``csm queue remove|freeze|restore|thaw|release ID…``."""

    name: ClassVar[str] = "queue.act"
    action: Action
    ids: tuple[str, ...]
    approve: str = ""

    def run(self, app: App, talk: Talk) -> Outcome:
        with app.queue_work() as (_, _decisions, actions):
            if self.action == "remove":
                return actions.remove(self.ids, app.operator, self.approve)
            if self.action == "freeze":
                return actions.freeze(self.ids, app.operator)
            if self.action == "restore":
                return actions.restore(self.ids, app.operator)
            deliver = self.action == "release"
            return actions.thaw(self.ids, app.operator, self.approve, deliver=deliver)


@dataclass(frozen=True, slots=True)
class QueueReview:
    """``csm queue review``: the groups, recorded as proposals unless ``record`` is off."""

    name: ClassVar[str] = "queue.review"
    account: str | None = None
    record: bool = True

    def run(self, app: App, talk: Talk) -> Reviewed:
        with app.queue_work() as (_, decisions, _actions):
            return decisions.review(self.account, app.operator, record=self.record)


@dataclass(frozen=True, slots=True)
class QueueDecide:
    """``csm queue decide ID… DECISION --note``: each id on the review that covers it."""

    name: ClassVar[str] = "queue.decide"
    ids: tuple[str, ...]
    decision: str
    note: str
    review_id: str = ""
    approve: str = ""

    def run(self, app: App, talk: Talk) -> Decided:
        with app.queue_work() as (_, decisions, _actions):
            return decisions.decide(
                self.ids,
                self.decision,
                self.note,
                app.operator,
                review_id=self.review_id,
                approve=self.approve,
            )


@dataclass(frozen=True, slots=True)
class QueueAccept:
    """``csm queue decide --accept-review REVIEW --group GROUP [--as DECISION]``."""

    name: ClassVar[str] = "queue.accept"
    review_id: str
    group: str
    decision: str | None
    note: str

    def run(self, app: App, talk: Talk) -> Decided:
        with app.queue_work() as (_, decisions, _actions):
            return decisions.accept(
                self.review_id, self.group, self.decision, self.note, app.operator
            )


@dataclass(frozen=True, slots=True)
class MailHold:
    """``csm mail hold ACCOUNT``."""

    name: ClassVar[str] = "mail.hold"
    account: str
    reason: str = ""

    def run(self, app: App, talk: Talk) -> HoldResult:
        with app.holds() as holds:
            return holds.hold(self.account, self.reason, app.operator)


@dataclass(frozen=True, slots=True)
class MailRelease:
    """``csm mail release ACCOUNT``."""

    name: ClassVar[str] = "mail.release"
    account: str
    approve: str = ""

    def run(self, app: App, talk: Talk) -> HoldResult:
        with app.holds() as holds:
            return holds.release(self.account, app.operator, self.approve)
