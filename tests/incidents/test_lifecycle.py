"""Transitions, unbinding and rebinding, and the close guard's refusals and passes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal

import pytest

from csm.credentials import repo as credentials
from csm.credentials.model import Event
from csm.errors import NotFoundError, RefusedError, UsageError
from csm.incidents import repo
from csm.incidents.bulk import BulkRequest
from csm.incidents.model import ClosedBy, Status
from csm.scan import repo as scans
from csm.store import backups
from tests.incidents.conftest import MIN, T0, Harness, finding

ACME = {"account": "acme"}


def opened(h: Harness, **fields: object) -> str:
    result = h.record(finding(severity="CRITICAL", **(fields or ACME)))  # type: ignore[arg-type]
    (incident_id,) = result.incidents
    return str(incident_id)


def record_rotation(
    h: Harness, account: str, after: timedelta, action: str = "rotated", item: str = "cpanel:x"
) -> None:
    with h.store.transaction() as conn:
        kind: Literal["rotated", "deferred"] = "rotated" if action == "rotated" else "deferred"
        credentials.add(conn, Event(account, item, kind, h.clock.now() + after, "t", "r"))


def record_scan(
    h: Harness, account: str, after: timedelta, *, complete: bool = True, clean: bool = True
) -> None:
    at = h.clock.now() + after
    with h.store.transaction() as conn:
        scans.add_scan_result(conn, scans.ScanRecord(account, at, at, complete, clean))


def unmet(h: Harness, incident_id: str) -> list[str]:
    with pytest.raises(RefusedError) as caught:
        h.service.set_status(incident_id, Status.RESOLVED, "", "cli:test")
    assert caught.value.exit_code == 3
    blocked = caught.value.details["blocked"]  # type: ignore[index]
    return [u.condition for u in blocked[0]["unmet"]]


def test_any_transition_between_statuses_is_allowed_but_resolved_is_guarded(
    harness: Harness,
) -> None:
    incident = opened(harness)
    for to in (Status.CONTAINED, Status.OPEN, Status.CONTAINED):
        assert harness.service.set_status(incident, to, "", "cli:test").changed
    assert not harness.service.set_status(incident, Status.CONTAINED, "", "cli:test").changed
    assert len(harness.service.show(incident).actions) == 3


def test_dismissing_needs_a_reason_and_records_who_and_when(harness: Harness) -> None:
    incident = opened(harness)
    with pytest.raises(UsageError):
        harness.service.set_status(incident, Status.DISMISSED, " ", "cli:test")
    harness.service.set_status(incident, Status.DISMISSED, "our own backup script", "cli:alice")
    shown = harness.service.show(incident)
    assert shown.incident.closed_by == ClosedBy.OPERATOR.value
    assert shown.incident.closed_at == harness.clock.now()
    assert shown.actions[-1].details == "open -> dismissed: our own backup script"
    assert shown.actions[-1].who == "cli:alice"
    audit = harness.service.audit.entries(incident)
    assert [(e.action, e.who) for e in audit] == [("incident.status", "cli:alice")]


def test_closing_unbinds_and_reopening_rebinds(harness: Harness) -> None:
    first = opened(harness)
    harness.service.set_status(first, Status.DISMISSED, "false positive", "cli:test")
    (second,) = harness.record(finding(severity="CRITICAL", at=MIN, **ACME)).incidents
    assert second != first
    harness.service.set_status(second, Status.DISMISSED, "also", "cli:test")
    harness.service.set_status(first, Status.OPEN, "", "cli:test")
    assert harness.service.show(first).incident.closed_at is None
    reopened_at = harness.service.show(first).incident.updated_at
    harness.record(finding(at=reopened_at + MIN - T0, **ACME))
    assert harness.service.show(first).incident.finding_count == 2


def test_unknown_ids_are_not_found(harness: Harness) -> None:
    with pytest.raises(NotFoundError, match="incident: not found"):
        harness.service.show("inc_000000000000")


def test_resolving_an_account_incident_needs_review_rotation_and_a_later_clean_scan(
    harness: Harness,
) -> None:
    incident = opened(harness)
    assert unmet(harness, incident) == ["review", "credentials", "scan"]
    harness.service.review(incident, "checked the uploads directory", "cli:test")
    assert unmet(harness, incident) == ["credentials", "scan"]
    record_scan(harness, "acme", after=timedelta(seconds=1))  # before the rotation: does not count
    record_rotation(harness, "acme", after=timedelta(seconds=2))
    assert unmet(harness, incident) == ["scan"]
    record_scan(harness, "acme", after=timedelta(seconds=3), complete=False)
    record_scan(harness, "acme", after=timedelta(seconds=4), clean=False)
    assert unmet(harness, incident) == ["scan"]
    record_scan(harness, "acme", after=timedelta(seconds=5))
    change = harness.service.set_status(incident, Status.RESOLVED, "", "cli:test")
    assert change.changed


def test_a_deferral_with_a_reason_counts_as_rotation(harness: Harness) -> None:
    incident = opened(harness)
    harness.service.review(incident, "ok", "cli:test")
    record_rotation(harness, "acme", after=timedelta(seconds=1), action="deferred")
    record_scan(harness, "acme", after=timedelta(seconds=2))
    assert harness.service.set_status(incident, Status.RESOLVED, "", "cli:test").changed


def test_records_from_before_the_incident_do_not_count(harness: Harness) -> None:
    record_rotation(harness, "acme", after=-timedelta(days=2))
    record_scan(harness, "acme", after=-timedelta(days=2) + MIN)
    incident = opened(harness)
    harness.service.review(incident, "x", "cli:test")
    assert unmet(harness, incident) == ["credentials", "scan"]


def test_a_mailbox_rotation_satisfies_a_mailbox_incident(harness: Harness) -> None:
    incident = opened(harness, account="acme", mailbox="info@acme.test")
    harness.service.review(incident, "x", "cli:test")
    record_rotation(harness, "", after=timedelta(seconds=1), item="mailbox:info@acme.test")
    record_scan(harness, "acme", after=timedelta(seconds=2))
    assert harness.service.set_status(incident, Status.RESOLVED, "", "cli:test").changed


def test_an_incident_review_does_not_review_other_incidents_of_the_account(
    harness: Harness,
) -> None:
    first = opened(harness)
    second = opened(harness, account="acme", mailbox="b@acme.test")
    harness.service.review(first, "looked at it", "cli:test")
    assert "review" in unmet(harness, second)


def test_an_account_review_counts_for_the_accounts_incidents(harness: Harness) -> None:
    incident = opened(harness)
    with harness.store.transaction() as conn:
        repo.add_review(conn, harness.clock.now(), "cli:test", None, "acme", "account reviewed")
    assert "review" not in unmet(harness, incident)


def test_attacker_and_host_incidents_need_only_a_review(harness: Harness) -> None:
    attacker = opened(harness, check="smtp_bruteforce", remote_ip="192.0.2.1")
    host = opened(harness, check="shadow_change")
    for incident in (attacker, host):
        assert unmet(harness, incident) == ["review"]
        harness.service.review(incident, "blocked at the firewall", "cli:test")
        assert harness.service.set_status(incident, Status.RESOLVED, "", "cli:test").changed


def test_a_review_needs_a_note(harness: Harness) -> None:
    with pytest.raises(UsageError):
        harness.service.review(opened(harness), "  ", "cli:test")


def test_a_restart_rebinds_active_incidents_and_pending_sightings(harness: Harness) -> None:
    incident = opened(harness)
    harness.record(finding(account="other"))
    harness.reopen()
    harness.record(finding(at=MIN, **ACME), finding(at=2 * MIN, account="other"))
    assert harness.service.show(incident).incident.finding_count == 2
    assert len(harness.incidents()) == 2


def test_a_status_change_needs_a_backup_within_the_window(make_harness: Any) -> None:
    h = make_harness(require_backup_within="24h")
    incident = opened(h)
    with pytest.raises(RefusedError) as caught:
        h.service.set_status(incident, Status.CONTAINED, "", "cli:test")
    assert "none is recorded" in caught.value.message and "csm backup /" in str(caught.value.fix)
    taken = backups.BackupRecord(
        "/root/b.tar.gz", 1, "0" * 64, h.clock.now() - timedelta(hours=25), "t"
    )
    with h.store.transaction() as conn:
        backups.record(conn, taken)
    with pytest.raises(RefusedError):  # too old
        h.service.set_status(incident, Status.CONTAINED, "", "cli:test")
    with h.store.transaction() as conn:
        backups.record(conn, replace(taken, created_at=h.clock.now() - timedelta(hours=23)))
    assert h.service.set_status(incident, Status.CONTAINED, "", "cli:test").changed
    h.clock.advance(timedelta(hours=2))
    request = BulkRequest(older_than=timedelta(hours=1), apply=True, confirm=True)
    with pytest.raises(RefusedError):
        h.service.bulk_status(request, "cli:test")
    assert h.service.bulk_status(replace(request, apply=False), "cli:test").dry_run


def test_two_stores_hand_out_different_ids_and_one_store_keeps_its_own(make_harness: Any) -> None:
    """Ids are unique across servers (a fleet's reports merge) and stable within one store."""
    first, second = make_harness(), make_harness()
    for h in (first, second):
        h.record(finding("webshell", "CRITICAL", path="/home/bob/x.php", account="bob"))
    [one], [other] = first.incidents(), second.incidents()
    assert one.id != other.id
    salt = repo.load_salt(first.store)
    first.reopen()  # as after a restart: the same store keeps its salt
    first.record(finding("webshell", "CRITICAL", path="/home/eve/y.php", account="eve"))
    assert repo.load_salt(first.store) == salt
    assert len({i.id for i in first.incidents()}) == 2
