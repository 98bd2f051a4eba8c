"""Incident changes sent to the running daemon (``incidents.*`` control commands): the same
methods and results as :class:`csm.incidents.service.Incidents`, the same errors (kind, fix,
details) when the daemon refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from csm import control
from csm.errors import UsageError
from csm.incidents import bulk, lifecycle
from csm.incidents.model import Status
from csm.incidents.service import Review
from csm.incidents.sweep import SweepResult

T = TypeVar("T")
TIMEOUT = 600.0  # a bulk change of many incidents takes a while


class DaemonIncidents:
    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def set_status(
        self, incident_id: str, to: Status, details: str, who: str
    ) -> lifecycle.StatusChange:
        args = {"incident_id": incident_id, "to": to.value, "details": details, "who": who}
        return self._call("incidents.set_status", args, lifecycle.StatusChange)

    def review(self, incident_id: str, note: str, who: str) -> Review:
        args = {"incident_id": incident_id, "note": note, "who": who}
        return self._call("incidents.review", args, Review)

    def bulk_status(self, request: bulk.BulkRequest, who: str) -> bulk.BulkResult:
        sent = TypeAdapter(bulk.BulkRequest).dump_python(request, mode="json")
        return self._call("incidents.bulk_status", {"request": sent, "who": who}, bulk.BulkResult)

    def sweep(self, *, apply: bool) -> SweepResult:
        return self._call("incidents.sweep", {"apply": apply}, SweepResult)

    def _call(self, cmd: str, args: dict[str, Any], result: type[T]) -> T:
        reply = control.request(self.socket, cmd, args, timeout=TIMEOUT)
        return TypeAdapter(result).validate_python(reply)


def bulk_request(data: Any) -> bulk.BulkRequest:
    """A bulk request as :meth:`DaemonIncidents.bulk_status` sent it (the daemon's side)."""
    try:
        return TypeAdapter(bulk.BulkRequest).validate_python(data)
    except ValidationError as exc:
        raise UsageError(f"not a bulk request: {exc.error_count()} problem(s)") from None
