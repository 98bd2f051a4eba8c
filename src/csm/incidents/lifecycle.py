"""Status changes: one incident at a time, or applied by bulk-status and the sweeper.

Any transition between the four statuses is allowed, except that ``resolved`` must pass the
close guard and ``dismissed`` (a false positive) needs a reason.  Closing unbinds the key (the
next finding opens a new incident); reopening rebinds it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from csm.errors import RefusedError, UsageError
from csm.incidents import repo
from csm.incidents.guard import CloseGuard, Verdict
from csm.incidents.live import ActionRow, LiveIncident
from csm.incidents.model import ClosedBy, Status


@dataclass(frozen=True, slots=True)
class StatusChange:
    id: str
    from_status: Status
    to_status: Status
    changed: bool


@dataclass(frozen=True, slots=True)
class Move:
    """A status change to make: where to, when, by whom, why."""

    to: Status
    at: datetime
    who: str
    details: str = ""
    by: ClosedBy = ClosedBy.OPERATOR
    action: str = "incident_status_changed"


def transition(incident: LiveIncident, move: Move) -> ActionRow:
    """Apply the change to the record and return the action that describes it."""
    before = incident.status
    if move.to.active:
        incident.reopen(move.to)
    else:
        incident.close(move.to, move.at, move.by)
    incident.updated_at = max(incident.updated_at, move.at)
    text = f"{before.value} -> {move.to.value}" + (f": {move.details}" if move.details else "")
    return ActionRow(incident.num, move.at, move.action, text, move.who)


def check_reason(to: Status, details: str) -> None:
    if to is Status.DISMISSED and not details.strip():
        raise UsageError("dismissing an incident (a false positive) needs a reason: --details TEXT")


def guard_verdict(guard: CloseGuard, incident: LiveIncident, to: Status) -> Verdict:
    """Only ``resolved`` is guarded; every other target passes."""
    return guard.check(incident) if to is Status.RESOLVED else Verdict(incident.id, ())


def refusal(verdicts: list[Verdict]) -> RefusedError:
    lines = [f"{v.incident_id}: " + "; ".join(u.reason for u in v.unmet) for v in verdicts]
    fixes = [u.fix for v in verdicts for u in v.unmet]
    return RefusedError(
        "close guard: not resolved until reviewed, credentials rotated or deferred, and a clean "
        "scan after that\n  " + "\n  ".join(lines),
        fix="; ".join(dict.fromkeys(fixes)),
        details={"blocked": [{"id": v.incident_id, "unmet": list(v.unmet)} for v in verdicts]},
    )


def apply(conn: sqlite3.Connection, incident: LiveIncident, move: Move) -> StatusChange:
    """Change one incident's status inside the caller's transaction."""
    before = incident.status
    action = transition(incident, move)
    repo.update(conn, [incident])
    repo.insert_actions(conn, [action])
    return StatusChange(incident.id, before, move.to, True)
