"""Delivery trouble that betrays abuse: cPanel outgoing-mail holds and max-defers limits, frozen
bounces, bounce storms per sender, and remote rejections of our mail for SPF/DKIM/DMARC."""

from __future__ import annotations

import re
from typing import Final

from csm.detectors.mail.context import Alert, MailContext, Recent, Window, emit
from csm.incidents.model import Finding, Severity

HOLD: Final = re.compile(
    r"(?:Sender (?P<sender>\S+@\S+)|Domain (?P<domain>\S+)) has an outgoing mail hold"
)
MAX_DEFERS: Final = re.compile(
    r"Domain (?P<domain>\S+) has exceeded the max defers and failures per hour"
)
ANGLE: Final = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
SENDERS_TRACKED: Final = 10_000  # as outbound.MESSAGES_TRACKED
POLICY_WORDS: Final = ("authentication", "ptr record", "sender policy", "alignment")


class Delivery:
    def __init__(self, context: MailContext) -> None:
        self.context = context
        self.bounces = Window(context.rules.bounce_window.total_seconds())
        self.senders: Recent[str] = Recent(SENDERS_TRACKED)  # msgid -> envelope sender

    def prune(self, now: int) -> None:
        self.bounces.prune(now)

    def arrival(self, msgid: str, sender: str) -> None:
        self.senders.remember(msgid, sender.lower())

    def deferral(self, at: int, msgid: str, text: str) -> list[Finding]:
        match = HOLD.search(text)
        if match:
            domain = (
                (match.group("domain") or match.group("sender").rpartition("@")[2])
                .strip('".')
                .lower()
            )
            message = f"{domain} has an outgoing mail hold (cPanel): its mail is being held"
            alert = Alert(
                "email_compromised_account", Severity.CRITICAL, message, at, domain=domain
            )
            return emit(self.context, alert)
        return []

    def failure(self, at: int, msgid: str, text: str) -> list[Finding]:
        match = MAX_DEFERS.search(text)
        if match:
            domain = match.group("domain").strip('".').lower()
            message = f"{domain} exceeded cPanel's max defers and failures per hour"
            alert = Alert("email_defer_fail_governor", Severity.HIGH, message, at, domain=domain)
            return emit(self.context, alert)
        found = self._rejection(at, msgid, text)
        sender = self.senders.get(msgid) or ""
        if sender and sender != "<>":
            found += self._storm(at, msgid, sender)
        return found

    def frozen(self, at: int, msgid: str) -> list[Finding]:
        sender = self.senders.get(msgid) or ""
        if sender != "<>":
            return []
        message = f"frozen bounce {msgid} (undeliverable delivery report: backscatter)"
        alert = Alert("exim_frozen_realtime", Severity.WARNING, message, at, subject=msgid)
        return emit(self.context, alert)

    def dkim_failed(self, at: int, text: str) -> list[Finding]:
        domain = text.partition("signing failed for ")[2].partition(":")[0].strip().lower()
        message = f"DKIM signing failed for {domain}"
        alert = Alert("email_dkim_failure", Severity.WARNING, message, at, domain=domain)
        return emit(self.context, alert) if domain else []

    def _rejection(self, at: int, msgid: str, text: str) -> list[Finding]:
        reason = text.rpartition(" : ")[2].lower() if " : " in text else ""
        markers = self.context.rules.auth_rejection_markers
        policy = "5.7.1" in reason and any(
            w in reason for w in ("authentication", "ptr record", "sender policy", "alignment")
        )
        if not reason or not (any(m in reason for m in markers) or policy):
            return []
        sender = self.senders.get(msgid) or ""
        found = ANGLE.search(text)
        sender = sender if "@" in sender else (found.group(1).lower() if found else "")
        domain = sender.rpartition("@")[2]
        if not domain:
            return []
        message = f"remote servers reject mail from {domain} for SPF/DKIM/DMARC: {reason[:160]}"
        return emit(
            self.context, Alert("email_spf_rejection", Severity.HIGH, message, at, domain=domain)
        )

    def _storm(self, at: int, msgid: str, sender: str) -> list[Finding]:
        events = self.bounces.add(sender, at, msgid)
        if len(events) != self.context.rules.bounce_storm:
            return []
        message = f"{len(events)} failed deliveries of mail from {sender} in {self.bounces.span}"
        return emit(self.context, Alert("email_bounce_storm", Severity.HIGH, message, at, sender))
