"""Authentication failures: SMTP AUTH (Exim) and IMAP/POP (Dovecot) brute force per IP, per /24,
and spray on one mailbox (within minutes, and low and slow over hours); a success after failures
from the same IP (a guessed password).

A phone that retries a stale password after waking up fails from an address that also logs in
fine: failures from an IP with a recent success for the same mailbox do not count."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Final

from csm.detectors.mail.context import SAMPLE, Alert, Distinct, MailContext, Recent, Window, emit
from csm.detectors.mail.spray import SlowSpray
from csm.incidents.model import Finding, Severity

GOOD_SOURCE_SECONDS: Final = 86_400
SUSTAINED: Final = 4
TRACKED: Final = 20_000
SUCCESS_AFTER_FAILURES: Final = {
    "smtp": "smtp_brute_failure_then_success",
    "cpanel": "cpanel_login_after_failures",
}


class AuthFailures:
    def __init__(self, context: MailContext, prefix: str) -> None:
        """``prefix`` is ``smtp`` (Exim SMTP AUTH), ``mail`` (Dovecot IMAP/POP) or ``cpanel``
        (cPanel, WHM and Webmail logins, from cpsrvd's access log)."""
        self.context = context
        self.prefix = prefix
        self.label = "cPanel/WHM/Webmail" if prefix == "cpanel" else prefix.upper()
        seconds = context.rules.brute_window.total_seconds()
        self.by_ip = Window(seconds)
        self.by_subnet = Distinct(seconds)
        self.by_mailbox = Distinct(seconds)
        self.pair_failures = Window(seconds)
        self.good: Recent[int] = Recent(TRACKED)  # "ip mailbox" -> last success
        rules = context.rules
        window = rules.spray_window.total_seconds()
        self.slow = SlowSpray(window, rules.spray_failures, rules.spray_ips)

    def failure(self, at: int, ip: str, mailbox: str, times: int = 1) -> list[Finding]:
        """``times`` failures at ``at`` (a line that stands for several)."""
        mailbox = mailbox.lower()
        if not ip or self.context.is_infra(ip) or self._good_source(at, ip, mailbox):
            return []
        found: list[Finding] = []
        for _ in range(times):
            self.pair_failures.add(f"{ip} {mailbox}", at)
            found += self._per_ip(at, ip, mailbox)
            found += self._per_subnet(at, ip, mailbox)
            found += self._per_mailbox(at, ip, mailbox)
            found += self._slow_spray(at, ip, mailbox)
        return found

    def prune(self, now: int) -> None:
        for window in (self.by_ip, self.by_subnet, self.by_mailbox, self.pair_failures):
            window.prune(now)
        self.slow.prune(now)

    def success(self, at: int, ip: str, mailbox: str) -> list[Finding]:
        mailbox = mailbox.lower()
        if not ip or not mailbox:
            return []
        pair = f"{ip} {mailbox}"
        failures = self.pair_failures.count(pair) if self.pair_failures.series else 0
        guessed = failures >= self.context.rules.failure_then_success and not self._good_source(
            at, ip, mailbox
        )
        self.good.remember(pair, at)
        if not guessed:
            return []
        check = SUCCESS_AFTER_FAILURES.get(self.prefix, "mail_account_compromised")
        message = (
            f"{mailbox} logged in from {ip} after {failures} failed attempts from the same address"
        )
        return emit(self.context, Alert(check, Severity.CRITICAL, message, at, mailbox, ip=ip))

    def _good_source(self, at: int, ip: str, mailbox: str) -> bool:
        last = self.good.get(f"{ip} {mailbox}")
        return last is not None and at - last <= GOOD_SOURCE_SECONDS

    def _per_ip(self, at: int, ip: str, mailbox: str) -> list[Finding]:
        """At the threshold, and again when it is reached four times over (a second sighting
        that lets the attacker's incident open)."""
        events = self.by_ip.add(ip, at, mailbox)
        threshold = self.context.rules.brute_per_ip
        if len(events) not in (threshold, SUSTAINED * threshold):
            return []
        targets = sorted(set(events.recent()) - {""})
        message = (
            f"{len(events)} failed {self.label} logins from {ip} in {self.by_ip.span}"
            f" against {', '.join(targets[:SAMPLE]) or 'unnamed accounts'}"
        )
        subject = f"{ip}:{len(events)}"
        details = {"failures": len(events), "targets": targets[:SAMPLE]}
        check = f"{self.prefix}_bruteforce"
        alert = Alert(check, Severity.HIGH, message, at, ip=ip, subject=subject, details=details)
        return emit(self.context, alert)

    def _per_subnet(self, at: int, ip: str, mailbox: str) -> list[Finding]:
        subnet = _slash24(ip)
        if not subnet:
            return []
        self.by_subnet.add(subnet, at, ip)
        ips = self.by_subnet.distinct(subnet)
        if len(ips) != self.context.rules.brute_subnet_ips:
            return []
        message = (
            f"{len(ips)} addresses of {subnet} failed {self.label} logins in {self.by_subnet.span}"
        )
        alert = Alert(
            f"{self.prefix}_subnet_spray", Severity.HIGH, message, at, ip=ip, subject=subnet
        )
        return emit(self.context, alert)

    def _per_mailbox(self, at: int, ip: str, mailbox: str) -> list[Finding]:
        if not mailbox:
            return []
        self.by_mailbox.add(mailbox, at, ip)
        ips = self.by_mailbox.distinct(mailbox)
        if len(ips) != self.context.rules.brute_account_ips:
            return []
        message = f"{mailbox}: failed logins from {len(ips)} addresses in {self.by_mailbox.span}"
        return self._on_mailbox(f"{self.prefix}_account_spray", message, at, ip, mailbox, {})

    def _slow_spray(self, at: int, ip: str, mailbox: str) -> list[Finding]:
        if not mailbox:
            return []
        sprayed = self.slow.add(at, mailbox, ip)
        if sprayed is None:
            return []
        failures, ips = sprayed
        hours = self.slow.seconds / 3600
        message = (
            f"{mailbox}: {failures} failed logins from {ips} addresses in {hours:g} hours"
            " (low and slow: too few per address for the per-IP windows)"
        )
        details = {"failures": failures, "addresses": ips}
        return self._on_mailbox(f"{self.prefix}_slow_spray", message, at, ip, mailbox, details)

    def _on_mailbox(
        self,
        check: str,
        message: str,
        at: int,
        ip: str,
        mailbox: str,
        details: Mapping[str, object],
    ) -> list[Finding]:
        """A finding about one login.  A failed login is what the client typed: a mailbox only
        when it is an address, and never an account by itself (a bare name stays the raw
        login, in the details)."""
        address = mailbox if _address(mailbox) else ""
        details = {**details, "login": mailbox}
        alert = Alert(
            check, Severity.HIGH, message, at, address, ip=ip, subject=mailbox, details=details
        )
        return emit(self.context, alert)


def _address(login: str) -> bool:
    """``local@domain`` with both parts (a bare name or ``@x`` is not a mailbox)."""
    local, at, domain = login.rpartition("@")
    return bool(at and local and domain)


def _slash24(ip: str) -> str:
    if "." in ip:
        return ip.rsplit(".", 1)[0] + ".0/24"
    if ":" in ip:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return ""
