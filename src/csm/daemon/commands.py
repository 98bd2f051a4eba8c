"""The state-changing commands the daemon runs for the CLI (``incidents.*``): the arguments
checked, the daemon's own incidents service called, the change logged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csm.daemon.journal import event
from csm.errors import UsageError
from csm.incidents import bulk, lifecycle
from csm.incidents.model import Status
from csm.incidents.service import Incidents, Review
from csm.incidents.sweep import SweepResult
from csm.remote.incidents import bulk_request


class IncidentCommands:
    def __init__(self, incidents: Callable[[], Incidents]) -> None:
        self.incidents = incidents  # the daemon's service (a reload replaces it)

    def set_status(self, args: dict[str, Any]) -> lifecycle.StatusChange:
        to = _text(args, "to")
        if to not in {s.value for s in Status}:
            raise UsageError(f"not a status: {to!r}")
        done = self.incidents().set_status(
            _text(args, "incident_id"), Status(to), _text(args, "details"), _text(args, "who")
        )
        event("incidents.status", "incident status changed", id=done.id, to=to, who=args["who"])
        return done

    def review(self, args: dict[str, Any]) -> Review:
        done = self.incidents().review(
            _text(args, "incident_id"), _text(args, "note"), _text(args, "who")
        )
        event("incidents.review", "incident reviewed", id=done.incident_id, who=done.who)
        return done

    def bulk_status(self, args: dict[str, Any]) -> bulk.BulkResult:
        request = bulk_request(args.get("request"))
        done = self.incidents().bulk_status(request, _text(args, "who"))
        if done.updated:
            event("incidents.bulk_status", "incidents changed", updated=done.updated)
        return done

    def sweep(self, args: dict[str, Any]) -> SweepResult:
        return self.incidents().sweep(apply=bool(args.get("apply")))


def _text(args: dict[str, Any], name: str) -> str:
    value = args.get(name, "")
    if not isinstance(value, str):
        raise UsageError(f"{name} must be text")
    return value
