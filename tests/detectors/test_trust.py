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
