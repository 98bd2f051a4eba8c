"""What every stop and resume shares: its record in the store (written before anything is
changed), the audit log, and the incidents it is noted on."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Protocol

from csm.audit import AuditLog
from csm.clock import Clock, isoformat
from csm.emergency import repo
from csm.errors import NotFoundError, RefusedError, UsageError
from csm.store.db import Store

# The incidents a stop is noted on when the operator names none: the ones whose account or
# mailbox sends the mail (a stolen mailbox, a compromised site's mailer).
MAIL_KINDS: Final = ("mailbox_takeover", "web_account_compromise")


class Noted(Protocol):
    def note_on(
        self, incident_ids: Sequence[str], action: str, details: str, who: str
    ) -> tuple[str, ...]: ...

    def active_of_kinds(self, kinds: Sequence[str]) -> tuple[str, ...]: ...


@dataclass
class Recorder:
    store: Store
    audit: AuditLog
    clock: Clock
    incidents: Noted

    def open(self, direction: str) -> repo.Stop | None:
        """The stop in ``direction`` that is not resumed (at most one)."""
        return next((s for s in repo.stops(self.store.conn, direction) if s.open), None)

    def unfinished(self, direction: str) -> repo.Stop | None:
        """A stop in ``direction`` cut short, which stopping again completes (None: there is
        none); refuses when ``direction`` is stopped already."""
        stop = self.open(direction)
        if stop is not None and stop.state != "stopping":
            raise RefusedError(
                f"{direction} mail is already stopped ({stop.id}, since"
                f" {isoformat(stop.started_at)}, by {stop.who})",
                fix="csm mail emergency status",
            )
        return stop

    def resumable(self, direction: str) -> repo.Stop:
        """The open stop in ``direction`` that a resume undoes; refused when there is none, or
        when it was cut short while stopping (stopping again completes it first)."""
        stop = self.open(direction)
        if stop is None:
            raise NotFoundError(f"{direction} mail is not stopped", fix="csm mail emergency status")
        if stop.state == "stopping":
            raise RefusedError(
                f"the {direction} stop {stop.id} was interrupted before it finished",
                fix=f'complete it first: csm mail stop {direction} --reason "…" --apply',
            )
        return stop

    def begin(self, direction: str, reason: str, who: str, incident: str | None) -> repo.Stop:
        if not reason.strip():
            raise UsageError(
                "a stop needs a reason (--reason), recorded with who and when",
                fix=f'csm mail stop {direction} --reason "why" --apply',
            )
        targets = (incident,) if incident else self.incidents.active_of_kinds(MAIL_KINDS)
        stop = repo.Stop(
            f"stop-{secrets.token_hex(4)}",
            direction,
            "stopping",
            reason.strip(),
            who,
            self.clock.now(),
            incidents=tuple(targets),
        )
        text = f"{direction} mail stop begun: {stop.reason}"
        noted = self.incidents.note_on(stop.incidents, f"mail_stop_{direction}", text, who)
        with self.store.transaction() as conn:
            repo.add(conn, replace(stop, incidents=noted))
        self.audit.record(who, f"mail.stop_{direction}", stop.id, {"reason": stop.reason})
        return replace(stop, incidents=noted)

    def state(self, stop: repo.Stop, state: str) -> repo.Stop:
        with self.store.transaction() as conn:
            repo.set_state(conn, stop.id, state)
        return replace(stop, state=state)

    def stopped(self, stop: repo.Stop, details: dict[str, object]) -> repo.Stop:
        stop = self.state(stop, "active")
        self.audit.record(stop.who, f"mail.stopped_{stop.direction}", stop.id, details)
        return stop

    def resumed(self, stop: repo.Stop, who: str, approval: str, details: dict[str, object]) -> None:
        with self.store.transaction() as conn:
            repo.resumed(conn, stop.id, self.clock.now(), who, approval)
        self.audit.record(who, f"mail.resume_{stop.direction}", stop.id, details)
        text = f"{stop.direction} mail resumed (stop {stop.id})"
        self.incidents.note_on(stop.incidents, f"mail_resume_{stop.direction}", text, who)
