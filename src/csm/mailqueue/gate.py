"""What the queue asks before it removes, thaws or releases an account's mail.

The runbook: do not act on a compromised account's queued mail until its credentials were
rotated or the rotation deferred with a reason.  The answer is the incidents' to give
(:class:`csm.incidents.gate.CredentialsGate`); the queue's review and actions only ask."""

from __future__ import annotations

from typing import Protocol


class Gate(Protocol):
    def passes(self, account: str) -> bool:
        """Whether the account's queued mail may be removed, thawed or released."""
        ...
