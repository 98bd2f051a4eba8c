"""The credentials gate on queued mail (see :mod:`csm.mailqueue.gate`).

An account passes when it has no active incident, or when its credentials were rotated or
their rotation deferred after its oldest active incident was created."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from csm.incidents.guard import Credentials
from csm.incidents.model import Incident


class ActiveIncidents(Protocol):
    def active_for(self, account: str) -> Sequence[Incident]: ...


class CredentialsGate:
    """Answers once per account for its lifetime (one command): a queue review asks for
    every message."""

    def __init__(self, incidents: ActiveIncidents, credentials: Credentials) -> None:
        self.incidents = incidents
        self.credentials = credentials
        self._answers: dict[str, bool] = {}

    def passes(self, account: str) -> bool:
        if account not in self._answers:
            self._answers[account] = self._handled(account)
        return self._answers[account]

    def _handled(self, account: str) -> bool:
        active = self.incidents.active_for(account)
        if not active:
            return True
        since: datetime = min(i.created_at for i in active)
        return self.credentials.rotated_or_deferred(account, "", since) is not None
