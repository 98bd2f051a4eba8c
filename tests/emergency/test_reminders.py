"""Nothing lets the operator forget that mail is stopped: after ``remind_after`` a finding (one
per period), a host incident, and the daemon job's warning; and the firewall's automatic
response to brute-force findings, in dry-run, records what it would block within its cap."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csm.app import App, build
from csm.clock import FixedClock
from csm.config.loader import load
from csm.daemon.jobs import EmergencyReminder
from csm.drill.build import DrillHost
from csm.errors import RefusedError
from csm.incidents.model import Finding, Severity
from tests.conftest import dropin

pytestmark = pytest.mark.exim
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def app_at(host: DrillHost, clock: FixedClock) -> App:
    loaded = load(host.config_path, host.config_path.parent / "conf.d", dict(os.environ))
    return build(loaded, dict(os.environ), clock=clock)


def test_a_lasting_stop_raises_one_finding_per_period(drill: DrillHost, cli: Any) -> None:
    clock = FixedClock(START)
    app = app_at(drill, clock)
    with app.emergency() as emergency:
        emergency.stop("outbound", "spam", "ops", apply=True)
        assert emergency.reminders() == []
    clock.advance(timedelta(hours=1, minutes=59))
    with app.emergency() as emergency:
        assert emergency.reminders() == []
    clock.advance(timedelta(minutes=2))
    with app.emergency() as emergency:
        first = emergency.reminders()
    assert [f.check for f in first] == ["mail_emergency_stop_lasting"]
    assert "csm mail resume outbound --apply" in first[0].message
    for _ in range(2):  # the same period twice: recorded once
        with pytest.raises(RefusedError, match="outbound mail stopped since"):
            EmergencyReminder(app).run()  # the daemon logs it as a warning
    assert reminders_recorded(cli) == 1
    clock.advance(timedelta(hours=2))
    with app.emergency() as emergency:
        later = emergency.reminders()
    assert later[0].origin != first[0].origin  # the next period reminds again


def reminders_recorded(cli: Any) -> int:
    """How many reminder findings the host incidents carry."""
    listed = cli("incidents", "list", "--kind", "host_integrity_risk", "--json").json()["items"]
    shown = [cli("incidents", "show", i["id"], "--json").out for i in listed]
    return sum(text.count('"mail_emergency_stop_lasting"') for text in shown)


def test_after_the_resume_the_job_reports_mail_flowing(drill: DrillHost) -> None:
    app = app_at(drill, FixedClock(START))
    with app.emergency() as emergency:
        emergency.stop("inbound", "spam", "ops", apply=True)
        emergency.resume("inbound", "ops", apply=True)
    assert EmergencyReminder(app).run() == "mail flows (no emergency stop)"


def brute(ip: str, check: str = "smtp_bruteforce") -> Finding:
    return Finding(check, Severity.HIGH, f"AUTH failures from {ip}", START, remote_ip=ip)


def test_auto_block_dry_run_records_what_it_would_block_within_the_cap(drill: DrillHost) -> None:
    dropin(
        drill,
        "60-firewall.yaml",
        "firewall:\n  auto_block: dry-run\n  auto_block_per_hour: 3\n  allow: [192.0.2.0/24]\n",
    )
    app = app_at(drill, FixedClock(START))
    findings = [
        brute("203.0.113.7"),
        brute("203.0.113.7"),  # the same source once
        brute("192.0.2.50"),  # allowed: never
        brute("not-an-ip"),
        brute("198.51.100.9", check="smtp_subnet_spray"),  # the /24
        brute("203.0.113.8", check="cpanel_login_after_failures"),  # not a brute-force check
        brute("203.0.113.9"),
        brute("203.0.113.10"),  # over the cap
    ]
    with app.firewall() as firewall:
        made = firewall.respond(findings)
        assert [b.network for b in made] == ["203.0.113.7/32", "198.51.100.0/24", "203.0.113.9/32"]
        assert all(b.dry_run for b in made)
        assert firewall.respond([brute("203.0.113.11")]) == []  # the cap holds for the hour
        history = firewall.listed(history=True)
        assert len(history) == 3 and firewall.listed() == []  # recorded, not in force


def test_auto_block_is_off_by_default(drill: DrillHost) -> None:
    app = app_at(drill, FixedClock(START))
    with app.firewall() as firewall:
        assert firewall.respond([brute("203.0.113.7")]) == []
