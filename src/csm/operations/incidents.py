"""Incident lifecycle changes, as operations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from csm.app import App
from csm.incidents import bulk, lifecycle
from csm.incidents.model import Status
from csm.incidents.service import Review
from csm.incidents.sweep import SweepResult
from csm.operations.base import Talk


@dataclass(frozen=True, slots=True)
class SetStatus:
    """``csm incidents status ID open|contained|resolved|dismissed``."""

    name: ClassVar[str] = "incidents.set_status"
    incident_id: str
    to: Status
    details: str = ""

    def run(self, app: App, talk: Talk) -> lifecycle.StatusChange:
        with app.incidents() as service:
            return service.set_status(self.incident_id, self.to, self.details, app.operator)


@dataclass(frozen=True, slots=True)
class ReviewIncident:
    """``csm incidents review ID --note``."""

    name: ClassVar[str] = "incidents.review"
    incident_id: str
    note: str

    def run(self, app: App, talk: Talk) -> Review:
        with app.incidents() as service:
            return service.review(self.incident_id, self.note, app.operator)


@dataclass(frozen=True, slots=True)
class BulkStatus:
    """``csm incidents bulk-status``: a preview, or the change with --apply --confirm."""

    name: ClassVar[str] = "incidents.bulk_status"
    request: bulk.BulkRequest

    def run(self, app: App, talk: Talk) -> bulk.BulkResult:
        self.request.validate()
        with app.incidents() as service:
            return service.bulk_status(self.request, app.operator)


@dataclass(frozen=True, slots=True)
class Sweep:
    """``csm incidents sweep [--apply]``."""

    name: ClassVar[str] = "incidents.sweep"
    apply: bool = False

    def run(self, app: App, talk: Talk) -> SweepResult:
        with app.incidents() as service:
            return service.sweep(apply=self.apply)
