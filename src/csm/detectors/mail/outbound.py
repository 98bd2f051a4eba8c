"""Authenticated outbound mail: volume and fan-out per mailbox, one mailbox from many networks,
submissions through cloud hosts, credentials in a subject, bulk-mail services."""

from __future__ import annotations

import ipaddress
import re

from csm.detectors.mail.context import SAMPLE, Alert, Distinct, MailContext, Recent, Window, emit
from csm.incidents.model import Finding, Severity
from csm.logtail.formats.exim import Arrival

MESSAGES_TRACKED = 50_000


class Outbound:
    def __init__(self, context: MailContext) -> None:
        self.context = context
        rules = context.rules
        self.rate = Window(rules.rate_window.total_seconds())
        self.spread = Distinct(rules.spread_window.total_seconds())
        self.cloud = Distinct(rules.cloud_window.total_seconds())
        self.fanout = Distinct(rules.rate_window.total_seconds())
        self.messages: Recent[str] = Recent(MESSAGES_TRACKED)  # msgid -> authenticated mailbox
        services = "|".join(re.escape(s) for s in context.rules.bulk_services)
        self.bulk_services = re.compile(services, re.IGNORECASE) if services else None

    def arrival(self, at: int, msgid: str, mail: Arrival) -> list[Finding]:
        mailbox = mail.auth_id.lower()
        if not mailbox or self.context.is_infra(mail.ip):
            return []
        self.messages.remember(msgid, mailbox)
        found = self._leak(at, mailbox, mail) + self._bulk(at, mailbox, mail)
        if self.context.is_high_volume(mailbox):
            return found
        found += self._volume(at, msgid, mailbox, mail)
        found += self._spread(at, mailbox, mail)
        return found + self._cloud(at, mailbox, mail)

    def delivery(self, at: int, msgid: str, recipient: str) -> list[Finding]:
        mailbox = self.messages.get(msgid)
        if mailbox is None or self.context.is_high_volume(mailbox):
            return []
        self.fanout.add(mailbox, at, recipient.lower())
        if self.fanout.count_distinct(mailbox) != self.context.rules.fanout_warn:
            return []
        recipients = self.fanout.distinct(mailbox)
        message = f"{mailbox} sent to {len(recipients)} distinct recipients in {self.fanout.span}"
        return emit(
            self.context, Alert("email_spam_outbreak", Severity.HIGH, message, at, mailbox, ip="")
        )

    def _volume(self, at: int, msgid: str, mailbox: str, mail: Arrival) -> list[Finding]:
        rules = self.context.rules
        events = self.rate.add(mailbox, at, f"{msgid} {mail.ip}")
        count = len(events)
        if count not in (rules.rate_warn, rules.rate_critical):
            return []
        critical = count >= rules.rate_critical
        ips = sorted({value.split(" ")[1] for _, value in events if " " in value} - {""})
        samples = [value.split(" ")[0] for _, value in list(events)[-SAMPLE:]]
        via = mail.auth.split(":")[0]
        message = (
            f"{mailbox} sent {count} messages in {self.rate.span} via {via}"
            f" from {len(ips)} IP(s): {', '.join(ips[:SAMPLE])}; e.g. {', '.join(samples)}"
        )
        check = "email_rate_critical" if critical else "email_rate_warning"
        severity = Severity.CRITICAL if critical else Severity.HIGH
        details = {"count": count, "ips": ips, "sample_messages": samples}
        alert = Alert(check, severity, message, at, mailbox, ip=mail.ip, details=details)
        return emit(self.context, alert)

    def _spread(self, at: int, mailbox: str, mail: Arrival) -> list[Finding]:
        network = _network(mail.ip)
        if not network:
            return []
        self.spread.add(mailbox, at, network)
        if self.spread.count_distinct(mailbox) < self.context.rules.spread_networks:
            return []
        networks = self.spread.distinct(mailbox)
        message = (
            f"{mailbox} authenticated from {len(networks)} networks in {self.spread.span}: "
            + ", ".join(sorted(networks)[:SAMPLE])
        )
        return emit(
            self.context,
            Alert("email_suspicious_geo", Severity.CRITICAL, message, at, mailbox, ip=mail.ip),
        )

    def _cloud(self, at: int, mailbox: str, mail: Arrival) -> list[Finding]:
        host = mail.host.lower()
        if not host or not host.endswith(tuple(self.context.rules.cloud_ptr_suffixes)):
            return []
        rules = self.context.rules
        events = self.cloud.add(mailbox, at, mail.ip)
        ips = self.cloud.count_distinct(mailbox)
        many_ips = ips >= rules.cloud_distinct_ips and len(events) >= 3
        if not (many_ips or len(events) >= rules.cloud_sends):
            return []
        message = (
            f"{mailbox} submitted {len(events)} messages through cloud hosts ({host})"
            f" from {ips} IP(s)"
        )
        alert = Alert(
            "email_cloud_relay_abuse", Severity.CRITICAL, message, at, mailbox, ip=mail.ip
        )
        return emit(self.context, alert)

    def _leak(self, at: int, mailbox: str, mail: Arrival) -> list[Finding]:
        if not mail.text_mentions(b"@", b"assword", b"ASSWORD"):
            return []
        subject = mail.subject.lower()
        if not subject:
            return []
        if "@" in subject and any(m in subject for m in self.context.rules.leak_markers):
            severity = Severity.CRITICAL
        elif "password" in subject and "smtp" in subject:
            severity = Severity.HIGH
        else:
            return []
        message = f"SMTP credentials in the subject of a message sent by {mailbox}"
        return emit(
            self.context, Alert("email_credential_leak", severity, message, at, mailbox, ip=mail.ip)
        )

    def _bulk(self, at: int, mailbox: str, mail: Arrival) -> list[Finding]:
        if self.bulk_services is None:
            return []
        found = self.bulk_services.search(mail.host) or self.bulk_services.search(mail.sender)
        if found is None:
            return []
        service = found.group(0).lower()
        message = f"{mailbox} submits through the bulk-mail service {service}"
        alert = Alert(
            "email_compromised_account", Severity.CRITICAL, message, at, mailbox, ip=mail.ip
        )
        return emit(self.context, alert)


def _network(ip: str) -> str:
    """The /16 (IPv4) or /48 (IPv6) of a validated address: one "network" for spread counting."""
    if "." in ip:
        first, second, _ = ip.split(".", 2)
        return f"{first}.{second}.0.0/16"
    if ":" in ip:
        return str(ipaddress.ip_network(f"{ip}/48", strict=False))
    return ""
