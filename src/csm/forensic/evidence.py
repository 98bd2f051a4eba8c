"""Snapshots as evidence: each one is audited and put on the account's active incidents,
whose start also sets how far back a snapshot reaches by default."""

from __future__ import annotations

from datetime import datetime

from csm.forensic.model import SnapshotResult
from csm.incidents.service import Incidents


class IncidentEvidence:
    def __init__(self, incidents: Incidents) -> None:
        self.incidents = incidents

    def recorded(self, result: SnapshotResult, who: str) -> None:
        details = {
            "path": str(result.path),
            "sha256": result.sha256,
            "size": result.size,
            "complete": result.complete,
            "failed": [c.entry for c in result.failed],
        }
        self.incidents.audit.record(who, "forensic.snapshot", result.account, details)
        noted = f"{result.path} (sha256 {result.sha256})"
        self.incidents.note(result.account, "forensic_snapshot", noted, who)

    def oldest_active(self, account: str) -> datetime | None:
        return self.incidents.oldest_active(account)
