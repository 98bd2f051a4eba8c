"""Auto-close per kind, the age and active caps, retention and pending pruning."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from csm.incidents.model import Kind, Status
from tests.incidents.conftest import MIN, Harness, finding

DAY = timedelta(days=1)


def seed(h: Harness) -> dict[Kind, str]:
    result = h.record(
        finding("smtp_bruteforce", "CRITICAL", remote_ip="192.0.2.1"),
        finding("htaccess_injection", "CRITICAL", account="acme"),
        finding("shadow_change", "HIGH"),
        finding("email_rate_critical", "CRITICAL", account="shop", mailbox="info@shop.test"),
    )
    return {h.service.show(i).incident.kind: i for i in result.incidents}


def test_idle_attacker_incidents_auto_close_and_unreviewed_compromises_are_held(
    harness: Harness,
) -> None:
    ids = seed(harness)
    harness.clock.advance(DAY)  # two days after T0: past 24h for attacks and mailboxes
    preview = harness.service.sweep(apply=False)
    assert (preview.closed_stale, preview.held, preview.dry_run) == (1, 1, True)
    assert harness.service.show(ids[Kind.MAILBOX_BRUTEFORCE]).incident.status is Status.OPEN
    result = harness.service.sweep(apply=True)
    assert result.closed_ids == [ids[Kind.MAILBOX_BRUTEFORCE]]
    closed = harness.service.show(ids[Kind.MAILBOX_BRUTEFORCE])
    assert (closed.incident.status, closed.incident.closed_by) == (Status.RESOLVED, "auto:stale")
    assert closed.actions[-1].action == "incident_auto_closed"
    assert closed.actions[-1].details == "open -> resolved: stale 1d"
    for kept in (Kind.MAILBOX_TAKEOVER, Kind.WEB_ACCOUNT_COMPROMISE, Kind.HOST_INTEGRITY_RISK):
        assert harness.service.show(ids[kept]).incident.status is Status.OPEN


def test_kinds_without_a_threshold_or_turned_off_never_auto_close(make_harness: Any) -> None:
    h = make_harness(auto_close={"by_kind": {"mailbox_bruteforce": None}})
    ids = seed(h)
    h.clock.advance(20 * DAY)
    h.service.sweep(apply=True)
    assert h.service.show(ids[Kind.MAILBOX_BRUTEFORCE]).incident.status is Status.OPEN
    assert h.service.show(ids[Kind.HOST_INTEGRITY_RISK]).incident.status is Status.OPEN


def test_auto_close_dry_run_setting_only_counts(make_harness: Any) -> None:
    h = make_harness(auto_close={"dry_run": True})
    ids = seed(h)
    h.clock.advance(DAY)
    assert h.service.sweep(apply=True).closed_stale == 1
    assert h.service.show(ids[Kind.MAILBOX_BRUTEFORCE]).incident.status is Status.OPEN


def test_the_age_cap_closes_anything_idle_for_30_days(harness: Harness) -> None:
    ids = seed(harness)
    harness.clock.advance(31 * DAY)
    result = harness.service.sweep(apply=True)
    assert result.closed_age_cap == 3  # the attacker went stale first
    held = harness.service.show(ids[Kind.WEB_ACCOUNT_COMPROMISE]).incident
    assert (held.status, held.closed_by) == (Status.RESOLVED, "auto:age_cap")


def test_the_active_cap_closes_the_oldest(make_harness: Any) -> None:
    h = make_harness(active_cap=2, auto_close={"enabled": False})
    for i in range(4):
        h.record(finding("htaccess_injection", "CRITICAL", at=i * MIN, account=f"acct{i}"))
    result = h.service.sweep(apply=True)
    assert result.closed_active_cap == 2
    statuses = {i.account: (i.status, i.closed_by) for i in h.incidents()}
    assert statuses == {
        "acct0": (Status.RESOLVED, "auto:active_cap"),
        "acct1": (Status.RESOLVED, "auto:active_cap"),
        "acct2": (Status.OPEN, None),
        "acct3": (Status.OPEN, None),
    }


def test_retention_deletes_closed_incidents_after_30_days(harness: Harness) -> None:
    ids = seed(harness)
    harness.service.set_status(ids[Kind.HOST_INTEGRITY_RISK], Status.DISMISSED, "maint", "cli:t")
    harness.clock.advance(29 * DAY)
    assert harness.service.sweep(apply=True).deleted == 0
    harness.clock.advance(2 * DAY)
    assert harness.service.sweep(apply=True).deleted >= 1
    assert ids[Kind.HOST_INTEGRITY_RISK] not in {i.id for i in harness.incidents()}
    for table in ("incident_events", "incident_actions"):
        orphans = f"SELECT count(*) FROM {table} WHERE incident NOT IN (SELECT num FROM incidents)"
        assert harness.sql(orphans) == [(0,)]


def test_stale_pending_sightings_are_pruned(harness: Harness) -> None:
    harness.record(finding(account="quiet"))
    harness.service.sweep(apply=True)
    assert harness.sql("SELECT count(*) FROM incident_pending") == [(0,)]


def test_one_sweep_closes_at_most_max_per_sweep(make_harness: Any) -> None:
    h = make_harness(auto_close={"max_per_sweep": 2})
    for i in range(5):
        h.record(finding("smtp_bruteforce", "CRITICAL", at=i * MIN, remote_ip=f"192.0.2.{i}"))
    h.clock.advance(DAY)
    assert h.service.sweep(apply=True).closed_stale == 2
    assert h.service.sweep(apply=True).closed_stale == 2
    assert sum(i.status is Status.OPEN for i in h.incidents()) == 1
