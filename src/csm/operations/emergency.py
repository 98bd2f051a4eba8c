"""The emergency stop, the queue's trash and the firewall's blocks, as operations (run in the
daemon when it answers, like every state change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar, Literal

from csm.app import App
from csm.emergency.model import ResumeResult, StopResult
from csm.firewall.service import BlockResult, UnblockResult
from csm.mailqueue.trash import Selection, TrashResult
from csm.operations.base import Talk

Direction = Literal["outbound", "inbound"]


@dataclass(frozen=True, slots=True)
class MailStop:
    """``csm mail stop outbound|inbound``."""

    name: ClassVar[str] = "mail.stop"
    direction: Direction
    reason: str = ""
    apply: bool = False
    firewall: bool = False
    incident: str | None = None

    def run(self, app: App, talk: Talk) -> StopResult:
        with app.emergency() as emergency:
            return emergency.stop(
                self.direction,
                self.reason,
                app.operator,
                apply=self.apply,
                firewall=self.firewall,
                incident=self.incident,
            )


@dataclass(frozen=True, slots=True)
class MailResume:
    """``csm mail resume outbound|inbound``."""

    name: ClassVar[str] = "mail.resume"
    direction: Direction
    apply: bool = False
    approve: str = ""

    def run(self, app: App, talk: Talk) -> ResumeResult:
        with app.emergency() as emergency:
            return emergency.resume(
                self.direction, app.operator, apply=self.apply, approve=self.approve
            )


@dataclass(frozen=True, slots=True)
class QueueTrash:
    """``csm queue trash --sender|--account|--auth|--all-frozen|--all``."""

    name: ClassVar[str] = "queue.trash"
    selection: Selection
    limit: int
    apply: bool = False
    approve: str = ""

    def run(self, app: App, talk: Talk) -> TrashResult:
        with app.trash() as trash:
            return trash.trash(
                self.selection,
                app.operator,
                limit=self.limit,
                apply=self.apply,
                approve=self.approve,
            )


@dataclass(frozen=True, slots=True)
class FirewallBlock:
    """``csm firewall block IP|CIDR``."""

    name: ClassVar[str] = "firewall.block"
    target: str
    reason: str
    lasting: timedelta | None = None  # None: firewall.block_for; zero: until unblocked
    apply: bool = False

    def run(self, app: App, talk: Talk) -> BlockResult:
        with app.firewall() as firewall:
            return firewall.block(
                self.target, self.reason, app.operator, lasting=self.lasting, apply=self.apply
            )


@dataclass(frozen=True, slots=True)
class FirewallUnblock:
    """``csm firewall unblock IP|CIDR``."""

    name: ClassVar[str] = "firewall.unblock"
    target: str
    apply: bool = False

    def run(self, app: App, talk: Talk) -> UnblockResult:
        with app.firewall() as firewall:
            return firewall.unblock(self.target, app.operator, apply=self.apply)
