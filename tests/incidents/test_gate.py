"""The credentials gate on queued mail: an account with an active incident passes only once
its credentials were rotated or deferred after the incident began."""

from __future__ import annotations

from datetime import timedelta

from csm.credentials import repo as credentials
from csm.credentials.model import Event
from csm.incidents.gate import CredentialsGate
from csm.incidents.guard import GuardRecords
from tests.incidents.conftest import Harness, finding

MAILBOX = "info@acme.test"


def gate(h: Harness) -> CredentialsGate:
    return CredentialsGate(h.service, GuardRecords(h.store, "plain"))


def handled(h: Harness, item: str, after: timedelta, action: str = "rotated") -> None:
    kind = "rotated" if action == "rotated" else "deferred"
    with h.store.transaction() as conn:
        credentials.add(conn, Event("acme", item, kind, h.clock.now() + after, "t", "why"))


def test_an_account_without_an_active_incident_passes(harness: Harness) -> None:
    harness.record(finding(severity="CRITICAL", account="other", mailbox="a@other.test"))
    assert gate(harness).passes("acme")
    assert not gate(harness).passes("other")


def test_the_mailbox_must_be_handled_after_the_incident_began(harness: Harness) -> None:
    harness.record(finding(severity="CRITICAL", account="acme", mailbox=MAILBOX))
    handled(harness, f"mailbox:{MAILBOX}", -timedelta(days=2))  # before: does not count
    handled(harness, "ftp:acme", timedelta(minutes=1))  # another item: not the one at stake
    assert not gate(harness).passes("acme")
    handled(harness, f"mailbox:{MAILBOX}", timedelta(minutes=2), action="deferred")
    assert gate(harness).passes("acme")


def test_one_gate_answers_once_per_account(harness: Harness) -> None:
    """A queue review asks for every message; the answer holds for the command."""
    harness.record(finding(severity="CRITICAL", account="acme", mailbox=MAILBOX))
    asked = gate(harness)
    assert not asked.passes("acme")
    handled(harness, f"mailbox:{MAILBOX}", timedelta(minutes=1))
    assert not asked.passes("acme")  # the same command: the answer it gave
    assert gate(harness).passes("acme")  # the next command sees the rotation
