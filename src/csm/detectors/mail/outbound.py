"""Authenticated outbound mail: volume and fan-out per mailbox, one mailbox from many networks,
submissions through cloud hosts, credentials in a subject, bulk-mail services.

What is followed about one mailbox's submissions lives in one ``Sender``, found with one
lookup: its recent messages, and the distinct recipients and networks in their windows."""

from __future__ import annotations

import re
from typing import Final

from csm.detectors.mail.context import (
    SAMPLE,
    Alert,
    MailContext,
    Recent,
    Series,
    Tally,
    emit,
    span,
)
from csm.incidents.model import Finding, Severity
from csm.logtail.formats.address import network
from csm.logtail.formats.exim import Arrival

# Messages followed for their deliveries: the last 10,000 submissions (hours of a busy
# server; deliveries follow a submission within seconds).  Small enough that the lookup
# tables stay in the CPU's cache: 50,000 made the whole mainlog pass a tenth slower.
MESSAGES_TRACKED: Final = 10_000


class Sender:
    """One authenticated mailbox's recent submissions."""

    __slots__ = (
        "bulk",
        "cloud",
        "cloudy",
        "host",
        "last",
        "leaky",
        "mailbox",
        "networks",
        "recipients",
        "route",
        "sent",
        "subject",
        "trusted",
    )

    def __init__(
        self, mailbox: str, trusted: bool, rate: float, spread: float, cloud: float
    ) -> None:
        self.mailbox = mailbox
        self.trusted = trusted  # a known high-volume sender: volume and spread are not counted
        self.last = 0
        self.sent = Series(rate)  # "msgid ip" of each message in the rate window
        self.cloud = Series(cloud)  # the client address of submissions through cloud hosts
        self.recipients = Tally(rate)  # distinct recipients in the rate window (fan-out)
        self.networks = Tally(spread)  # distinct networks submitted from (spread)
        self.subject, self.leaky = "", False  # the last raw subject; may it leak credentials?
        self.host, self.cloudy = "", False  # the last client host; is it a cloud host?
        self.route = ""  # the last client host and envelope sender, and the bulk service
        self.bulk = ""  # named in them ("" for none): they rarely change between messages


class Outbound:
    def __init__(self, context: MailContext) -> None:
        self.context = context
        rules = context.rules
        self.rate_seconds = int(rules.rate_window.total_seconds())
        self.spread_seconds = int(rules.spread_window.total_seconds())
        self.cloud_seconds = int(rules.cloud_window.total_seconds())
        self.cloud_suffixes = tuple(s.lower() for s in rules.cloud_ptr_suffixes)
        self.rate_warn, self.rate_critical = rules.rate_warn, rules.rate_critical
        self.fanout_warn, self.spread_networks = rules.fanout_warn, rules.spread_networks
        self.senders: dict[str, Sender] = {}
        self.messages: Recent[Sender] = Recent(MESSAGES_TRACKED)  # msgid -> its sender
        services = "|".join(re.escape(s) for s in rules.bulk_services)
        self.bulk_services = re.compile(services, re.IGNORECASE) if services else None
        # what a credential leak's subject must hold, looked for in the lower-cased text
        self.leak_hints = ("password", *(m.lower() for m in rules.leak_markers))

    def arrival(self, at: int, msgid: str, mail: Arrival) -> list[Finding]:
        sender = self._sender(mail.auth_id)
        if sender is None or self.context.is_infra(mail.ip):
            return []
        sender.last = at
        self.messages.remember(msgid, sender)  # its deliveries count for fan-out
        found = self._leak(at, sender, mail) + self._bulk(at, sender, mail)
        if sender.trusted:
            return found
        found += self._volume(at, msgid, sender, mail)
        found += self._spread(at, sender, mail)
        if mail.host:
            found += self._cloud(at, sender, mail)
        return found

    def delivery(self, at: int, msgid: str, recipient: str) -> list[Finding]:
        sender = self.messages.get(msgid)
        return self.delivered(at, sender, recipient) if sender is not None else []

    def delivered(self, at: int, sender: Sender, recipient: str) -> list[Finding]:
        """A delivery of one of ``sender``'s messages: its recipient counts for fan-out."""
        if sender.trusted:
            return []
        warn = self.fanout_warn
        if sender.recipients.add(at, recipient.lower()) != warn:
            return []
        message = (
            f"{sender.mailbox} sent to {warn} distinct recipients in {span(self.rate_seconds)}"
        )
        alert = Alert("email_spam_outbreak", Severity.HIGH, message, at, sender.mailbox)
        return emit(self.context, alert)

    def prune(self, now: int) -> None:
        """Forget mailboxes idle for longer than every window (bounds memory on long logs)."""
        horizon = now - max(self.rate_seconds, self.spread_seconds, self.cloud_seconds)
        for mailbox in [m for m, s in self.senders.items() if s.last <= horizon]:
            del self.senders[mailbox]

    def _sender(self, auth_id: str) -> Sender | None:
        """The mailbox's state, looked up by the login as logged (and by its lower case)."""
        sender = self.senders.get(auth_id)
        if sender is None and auth_id:
            mailbox = auth_id.lower()
            sender = self.senders.get(mailbox)
            if sender is None:
                trusted = self.context.is_high_volume(mailbox)
                windows = (self.rate_seconds, self.spread_seconds, self.cloud_seconds)
                sender = Sender(mailbox, trusted, *windows)
                self.senders[mailbox] = sender
            self.senders[auth_id] = sender
        return sender

    def _volume(self, at: int, msgid: str, sender: Sender, mail: Arrival) -> list[Finding]:
        count = sender.sent.add(at, f"{msgid} {mail.ip}")
        if count not in (self.rate_warn, self.rate_critical):
            return []
        critical = count >= self.rate_critical
        sent = [entry.split(" ") for entry in sender.sent.recent()]
        ips = sorted({entry[1] for entry in sent} - {""})
        samples = [entry[0] for entry in sent[-SAMPLE:]]
        message = (
            f"{sender.mailbox} sent {count} messages in {span(self.rate_seconds)}"
            f" via {mail.auth.split(':')[0]} from {len(ips)} IP(s): {', '.join(ips[:SAMPLE])};"
            f" e.g. {', '.join(samples)}"
        )
        check = "email_rate_critical" if critical else "email_rate_warning"
        severity = Severity.CRITICAL if critical else Severity.HIGH
        details = {"count": count, "ips": ips, "sample_messages": samples}
        alert = Alert(check, severity, message, at, sender.mailbox, ip=mail.ip, details=details)
        return emit(self.context, alert)

    def _spread(self, at: int, sender: Sender, mail: Arrival) -> list[Finding]:
        net = network(mail.ip)
        if not net:
            return []
        if sender.networks.add(at, net) < self.spread_networks:
            return []
        networks = sender.networks.distinct()
        message = (
            f"{sender.mailbox} authenticated from {len(networks)} networks in"
            f" {span(self.spread_seconds)}: " + ", ".join(sorted(networks)[:SAMPLE])
        )
        return emit(
            self.context,
            Alert(
                "email_suspicious_geo", Severity.CRITICAL, message, at, sender.mailbox, ip=mail.ip
            ),
        )

    def _cloud(self, at: int, sender: Sender, mail: Arrival) -> list[Finding]:
        if mail.host != sender.host:  # and their client host
            cloudy = mail.host.lower().endswith(self.cloud_suffixes)
            sender.host, sender.cloudy = mail.host, cloudy
        if not sender.cloudy:
            return []
        host = mail.host.lower()
        rules = self.context.rules
        sends = sender.cloud.add(at, mail.ip)
        ips = len(set(sender.cloud.recent()))
        many_ips = ips >= rules.cloud_distinct_ips and sends >= 3
        if not (many_ips or sends >= rules.cloud_sends):
            return []
        message = (
            f"{sender.mailbox} submitted {sends} messages through cloud hosts ({host})"
            f" from {ips} IP(s)"
        )
        alert = Alert(
            "email_cloud_relay_abuse", Severity.CRITICAL, message, at, sender.mailbox, ip=mail.ip
        )
        return emit(self.context, alert)

    def _leak(self, at: int, sender: Sender, mail: Arrival) -> list[Finding]:
        raw = mail.raw_subject
        if raw != sender.subject:  # a sender's messages often share their subject
            low = raw.lower()
            sender.subject, sender.leaky = raw, any(hint in low for hint in self.leak_hints)
        if not sender.leaky:
            return []
        subject = mail.subject.lower()
        if "@" in subject and any(m in subject for m in self.context.rules.leak_markers):
            severity = Severity.CRITICAL
        elif "password" in subject and "smtp" in subject:
            severity = Severity.HIGH
        else:
            return []
        message = f"SMTP credentials in the subject of a message sent by {sender.mailbox}"
        alert = Alert("email_credential_leak", severity, message, at, sender.mailbox, ip=mail.ip)
        return emit(self.context, alert)

    def _bulk(self, at: int, sender: Sender, mail: Arrival) -> list[Finding]:
        if self.bulk_services is None:
            return []
        route = f"{mail.host} {mail.sender}"
        if route != sender.route:
            found = self.bulk_services.search(route)
            sender.route, sender.bulk = route, found.group(0).lower() if found else ""
        service = sender.bulk
        if not service:
            return []
        message = f"{sender.mailbox} submits through the bulk-mail service {service}"
        alert = Alert(
            "email_compromised_account",
            Severity.CRITICAL,
            message,
            at,
            sender.mailbox,
            ip=mail.ip,
        )
        return emit(self.context, alert)
