"""Threshold, pending bucket, merge window, escalation, compound flags, caps, spray."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from csm.incidents.model import Kind, Severity, Status
from tests.incidents.conftest import MIN, T0, Harness, finding

ACME = {"account": "acme"}


def test_a_first_sighting_waits_and_a_second_within_the_window_opens(harness: Harness) -> None:
    assert harness.record(finding(**ACME)).pending == 1
    assert harness.incidents() == []
    assert harness.sql("SELECT count(*) FROM incident_pending") == [(1,)]
    result = harness.record(finding(at=10 * MIN, **ACME))
    assert result.created == 1
    incident = harness.only()
    assert incident.created_at == T0
    assert incident.updated_at == T0 + 10 * MIN
    assert incident.finding_count == 2
    assert harness.sql("SELECT count(*) FROM incident_pending") == [(0,)]


def test_a_pending_sighting_older_than_the_window_is_replaced(harness: Harness) -> None:
    harness.record(finding(**ACME))
    assert harness.record(finding(at=16 * MIN, **ACME)).pending == 1
    assert harness.incidents() == []
    harness.record(finding(at=20 * MIN, **ACME))
    assert harness.only().created_at == T0 + 16 * MIN


def test_critical_opens_at_once_and_keeps_the_pending_evidence(harness: Harness) -> None:
    harness.record(finding(**ACME))
    harness.record(finding(severity="CRITICAL", at=5 * MIN, **ACME))
    incident = harness.only()
    assert (incident.severity, incident.finding_count, incident.created_at) == (
        Severity.CRITICAL,
        2,
        T0,
    )


def test_threshold_one_opens_every_key_at_once(make_harness: Any) -> None:
    h = make_harness(open_threshold=1)
    assert h.record(finding(**ACME)).created == 1


def test_an_open_incident_absorbs_its_key_s_findings_until_it_is_closed(
    harness: Harness,
) -> None:
    """One stolen mailbox is one incident: later bursts, however far apart, join the open one
    (and raise its severity); after it is closed, the next burst opens a new one."""
    harness.record(finding(**ACME), finding(at=MIN, **ACME))
    assert harness.record(finding(at=14 * MIN, **ACME)).merged == 1
    assert harness.record(finding(at=28 * MIN, **ACME)).merged == 1  # window slides with updated_at
    later = harness.record(finding(at=3 * 24 * 60 * MIN, severity="CRITICAL", **ACME))
    assert later.merged == 1 and later.created == 0  # days later, still the open incident
    [only] = harness.incidents()
    assert only.finding_count == 5 and only.severity is Severity.CRITICAL
    assert harness.service.set_status(only.id, Status.DISMISSED, "handled", "cli:test").changed
    harness.record(
        finding(at=4 * 24 * 60 * MIN, **ACME), finding(at=4 * 24 * 60 * MIN + MIN, **ACME)
    )
    assert len(harness.incidents()) == 2


def test_severity_only_rises_and_each_rise_is_an_action(harness: Harness) -> None:
    harness.record(finding(severity="WARNING", **ACME), finding(severity="WARNING", at=MIN, **ACME))
    harness.record(finding(severity="HIGH", at=2 * MIN, **ACME))
    harness.record(finding(severity="WARNING", at=3 * MIN, **ACME))
    incident = harness.only()
    assert incident.severity is Severity.HIGH
    actions = harness.service.show(incident.id).actions
    assert [(a.action, a.details, a.time) for a in actions] == [
        ("incident_severity_changed", "WARNING -> HIGH", T0 + 2 * MIN)
    ]


def test_kind_only_rises(harness: Harness) -> None:
    harness.record(finding(**ACME), finding(at=MIN, **ACME))
    harness.record(finding("email_rate_warning", at=2 * MIN, **ACME))
    harness.record(finding("htaccess_injection", at=3 * MIN, **ACME))
    incident = harness.only()
    assert incident.kind is Kind.MAILBOX_TAKEOVER
    details = [a.details for a in harness.service.show(incident.id).actions]
    assert details == ["web_account_compromise -> mailbox_takeover"]


def test_an_ip_keyed_incident_is_not_promoted_by_an_ip_keyed_finding(harness: Harness) -> None:
    ip = {"remote_ip": "192.0.2.50"}
    harness.record(
        finding("wp_login_bruteforce", **ip), finding("wp_login_bruteforce", at=MIN, **ip)
    )
    harness.record(finding("odd_request", at=2 * MIN, **ip))  # would classify as account compromise
    incident = harness.only()
    assert incident.kind is Kind.WEB_ATTACK
    assert incident.finding_count == 3


def test_webshell_and_c2_make_post_exploitation(harness: Harness) -> None:
    harness.record(finding("webshell", severity="CRITICAL", path="/home/acme/public_html/x.php"))
    harness.record(finding("c2_connection", at=MIN, account="acme", remote_ip=""))
    incident = harness.only()
    assert incident.kind is Kind.POST_EXPLOIT_PROCESS
    assert incident.compound_flags == {"c2": True, "webshell": True}


def test_two_of_uid0_suid_and_bad_asn_make_host_takeover(harness: Harness) -> None:
    harness.record(finding("uid0_account", message="uid 0 user toor"))
    assert harness.only().kind is Kind.HOST_INTEGRITY_RISK
    harness.record(finding("suid_binary", at=MIN, message="/usr/bin/.sh suid"))
    assert harness.only().kind is Kind.HOST_TAKEOVER


def test_the_timeline_keeps_the_first_and_last_halves_with_a_marker(make_harness: Any) -> None:
    h = make_harness(timeline_cap=10, fingerprint_cap=20)
    found = [finding(severity="CRITICAL", at=i * MIN, message=f"n{i}", **ACME) for i in range(25)]
    h.record(*found[:12])
    for one in found[12:]:
        h.record(one)
    incident = h.only()
    events = h.service.show(incident.id).timeline
    assert [e.message for e in events[:5]] == ["n0", "n1", "n2", "n3", "n4"]
    assert events[5].kind == "truncated"
    assert events[5].message == "16 events elided to cap incident size"
    assert [e.message for e in events[6:]] == ["n21", "n22", "n23", "n24"]
    prints = h.service.show(incident.id).findings
    assert len(prints) == 20
    assert prints[10] == "...truncated:6 findings elided"
    assert incident.finding_count == 25


def test_ids_differ_between_stores(make_harness: Any) -> None:
    a, b = make_harness(), make_harness()
    for h in (a, b):
        h.record(finding(severity="CRITICAL", **ACME))
    assert a.only().id != b.only().id
    assert a.only().id.startswith("inc_") and len(a.only().id) == 16


def test_spray_folds_many_targets_from_one_ip_into_one_incident(make_harness: Any) -> None:
    h = make_harness(
        spray={
            "enabled": True,
            "dry_run": False,
            "distinct_mailboxes": 3,
            "severity_escalate_at": 5,
        }
    )
    spray = [
        finding(
            "email_auth_failure_realtime",
            "WARNING",
            at=i * MIN,
            mailbox=f"u{i}@acme.test",
            remote_ip="192.0.2.66",
        )
        for i in range(6)
    ]
    h.record(*spray[:2])
    assert h.incidents() == [] or all(i.kind is not Kind.CREDENTIAL_SPRAY for i in h.incidents())
    h.record(spray[2])
    incident = h.only()
    assert (incident.kind, incident.severity, incident.spray_targets) == (
        Kind.CREDENTIAL_SPRAY,
        Severity.HIGH,
        3,
    )
    h.record(*spray[3:])
    incident = h.only()
    assert (incident.severity, incident.spray_targets) == (Severity.CRITICAL, 6)
    assert "credential_spray_opened" in [a.action for a in h.service.show(incident.id).actions]


def test_spray_dry_run_only_counts(make_harness: Any) -> None:
    h = make_harness(spray={"enabled": True, "distinct_mailboxes": 2})
    found = [
        finding(
            "email_auth_failure_realtime",
            "WARNING",
            at=i * MIN,
            mailbox=f"u{i}@acme.test",
            remote_ip="192.0.2.67",
        )
        for i in range(4)
    ]
    h.record(*found)
    assert all(i.kind is Kind.MAILBOX_BRUTEFORCE for i in h.incidents())
    assert h.service.correlator.spray.dry_run_opens == 1


def test_findings_from_an_old_log_take_their_own_time(harness: Harness) -> None:
    old = T0 - timedelta(days=400)
    harness.record(finding(severity="CRITICAL", at=old - T0, **ACME))
    assert harness.only().created_at == old


def test_undecodable_text_becomes_storable() -> None:
    broken = finding(message="bad \udcff byte", account="ac\udc80me")
    assert broken.message == "bad ? byte"
    assert broken.account == "ac?me"


def test_spray_tracking_resets_after_idle_and_evicts_the_oldest_ip() -> None:
    from csm.config.incidents import SprayConfig
    from csm.incidents.spray import SprayTracker

    tracker = SprayTracker(
        SprayConfig(enabled=True, dry_run=False, distinct_mailboxes=3, max_tracked_ips=2)
    )
    ip1 = {"remote_ip": "192.0.2.1"}

    def seen(i: int, at: timedelta, **fields: Any) -> Any:
        return tracker.observe(
            finding("email_auth_failure_realtime", at=at, mailbox=f"u{i}@a.test", **fields)
        )

    seen(1, 0 * MIN, **ip1)
    seen(2, 1 * MIN, **ip1)
    assert seen(3, 40 * MIN, **ip1).targets == 1  # idle past 15 minutes: counting starts again
    seen(1, 41 * MIN, remote_ip="192.0.2.2")
    seen(1, 42 * MIN, remote_ip="192.0.2.3")
    assert list(tracker.ips) == ["192.0.2.2", "192.0.2.3"]


def test_a_finding_far_older_than_the_incident_does_not_join_it(harness: Harness) -> None:
    harness.record(finding(severity="CRITICAL", at=timedelta(days=2), **ACME))
    harness.record(finding(severity="CRITICAL", **ACME))  # a replayed line from two days before
    assert len(harness.incidents()) == 2
    harness.record(finding(severity="CRITICAL", at=timedelta(days=2) - 10 * MIN, **ACME))
    assert sorted(i.finding_count for i in harness.incidents()) == [1, 2]
