"""Senders and addresses the operator trusts are never flagged."""

from __future__ import annotations

from pathlib import Path

from csm.accounts.domains import DomainMap
from csm.config.mailrules import default_rules
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.pipeline import MailDetectors

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "mail"


def checks(log: str, high_volume: list[str], infra: list[str]) -> list[str]:
    context = MailContext.build(
        default_rules(), DomainMap({"shop.example": "shopuser"}), high_volume, infra
    )
    detectors = MailDetectors(context)
    lines = (SAMPLES / log).read_bytes().splitlines(keepends=True)
    return [f.check for line in lines for f in detectors.exim_line(line, 2026)]


def test_a_high_volume_sender_is_not_flagged_for_volume() -> None:
    assert "email_rate_critical" in checks("stolen_mailbox.log", [], [])
    assert checks("stolen_mailbox.log", ["info@shop.example"], []) == []
    assert checks("stolen_mailbox.log", ["shop.example"], []) == []  # a whole domain


def test_infrastructure_addresses_are_never_counted() -> None:
    assert "smtp_bruteforce" in checks("smtp_bruteforce.log", [], [])
    assert checks("smtp_bruteforce.log", [], ["203.0.113.0/24"]) == []


def test_fan_out_counts_deliveries_in_every_line_shape() -> None:
    """Deliveries logged with a [pid] or wrapped by syslog count like plain ones."""
    context = MailContext.build(default_rules(), DomainMap({"shop.example": "shopuser"}), [], [])
    detectors = MailDetectors(context)
    msgid = "1xUb00-000b00-AA"
    arrival = (
        f"2026-11-20 09:00:00 {msgid} <= a@shop.example H=h [192.0.2.5]:1 P=esmtpsa"
        " A=dovecot_login:a@shop.example S=1"
    )
    detectors.exim_line(arrival.encode(), 2026)
    shapes = [
        "2026-11-20 09:00:01 {id} => r{n}@example.net R=dnslookup T=remote_smtp",
        "2026-11-20 09:00:01 [77] {id} => r{n}@example.net R=dnslookup T=remote_smtp",
        "Nov 20 09:00:01 server1 exim[77]: {id} => r{n}@example.net R=dnslookup T=remote_smtp",
    ]
    found = []
    for n in range(context.rules.fanout_warn):
        line = shapes[n % 3].format(id=msgid, n=n)
        found += detectors.exim_line(line.encode(), 2026)
    assert [f.check for f in found] == ["email_spam_outbreak"]
