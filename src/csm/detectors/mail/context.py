"""What every mail detector shares: the rule pack, who owns which domain, who is trusted, and
how findings are made (with the quiet period that stops one burst from alerting twice)."""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Final, Generic, TypeVar

from csm.accounts.domains import DomainMap
from csm.config.mailrules import MailRules
from csm.incidents.model import Finding, Severity

SAMPLE: Final = 5
V = TypeVar("V")


@dataclass
class MailContext:
    rules: MailRules
    domains: DomainMap = field(default_factory=DomainMap)
    high_volume: frozenset[str] = frozenset()
    infra: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    _last: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def build(
        cls, rules: MailRules, domains: DomainMap, high_volume: Iterable[str], infra: Iterable[str]
    ) -> MailContext:
        networks = tuple(ipaddress.ip_network(i, strict=False) for i in infra)
        return cls(rules, domains, frozenset(h.lower() for h in high_volume), networks)

    def account(self, address: str) -> str:
        return self.domains.owner(address)

    def is_high_volume(self, address: str) -> bool:
        address = address.lower()
        return address in self.high_volume or address.rpartition("@")[2] in self.high_volume

    def is_infra(self, ip: str) -> bool:
        if not self.infra or not ip:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.infra)

    def fresh(self, check: str, subject: str, now: int) -> bool:
        """True (and remembered) unless the check fired for the subject in the quiet period."""
        last = self._last.get((check, subject))
        if last is not None and now - last < self.rules.quiet.total_seconds():
            return False
        self._last[(check, subject)] = now
        return True


@dataclass(frozen=True, slots=True)
class Alert:
    """A finding about to be made.  ``mailbox`` may be a full address or a bare login (which is
    the cPanel account itself); the account is resolved from it, or from ``domain``."""

    check: str
    severity: Severity
    message: str
    at: int
    mailbox: str = ""
    domain: str = ""
    ip: str = ""
    account: str = ""
    path: str = ""
    subject: str = ""  # what the quiet period is per; default: mailbox, domain, account or ip
    details: dict[str, Any] = field(default_factory=dict)  # e.g. source IPs, sample message ids


def emit(context: MailContext, alert: Alert) -> list[Finding]:
    """The finding, unless the same check fired for the same subject within the quiet period."""
    subject = alert.subject or alert.mailbox or alert.domain or alert.account or alert.ip
    if not context.fresh(alert.check, subject, alert.at):
        return []
    account, mailbox = alert.account, alert.mailbox
    if mailbox and "@" not in mailbox:
        account, mailbox = account or mailbox, ""
    account = (
        account or context.account(mailbox or alert.domain)
        if (mailbox or alert.domain)
        else account
    )
    when = datetime.fromtimestamp(alert.at, UTC)
    return [
        Finding(alert.check, alert.severity, alert.message, when, account=account,
                domain=alert.domain, mailbox=mailbox, remote_ip=alert.ip, path=alert.path,
                details=alert.details)
    ]  # fmt: skip


class Recent(Generic[V]):
    """A bounded map of the most recent entries: past ``limit``, the older half is dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: dict[str, V] = {}

    def get(self, key: str) -> V | None:
        return self.items.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def __len__(self) -> int:
        return len(self.items)

    def remember(self, key: str, value: V) -> None:
        items = self.items
        items[key] = value
        if len(items) > self.limit:
            for old in list(islice(items, self.limit // 2)):
                del items[old]


class Window:
    """Events per key within a sliding time window (timestamps in seconds, arriving in order).
    A ``Distinct`` window also counts the distinct values in it as they come and go."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.events: dict[str, deque[tuple[int, str]]] = {}

    def add(self, key: str, at: int, value: str = "") -> deque[tuple[int, str]]:
        events = self.events.get(key)
        if events is None:
            events = self.events[key] = deque()
        events.append((at, value))
        horizon = at - self.seconds
        while events[0][0] <= horizon:
            events.popleft()
        return events

    @property
    def span(self) -> str:
        """The window's length for messages: ``10 minutes``."""
        return f"{int(self.seconds // 60)} minutes"

    def prune(self, now: int) -> None:
        """Forget keys with nothing left in the window (bounds memory on long logs)."""
        horizon = now - self.seconds
        for key in [k for k, e in self.events.items() if not e or e[-1][0] <= horizon]:
            self._forget(key)

    def _forget(self, key: str) -> None:
        del self.events[key]


class Tally:
    """The distinct values seen within a sliding time window, for one subject (a mailbox's
    recipients or networks).  Times arrive in order."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.events: deque[tuple[int, str]] = deque()
        self.counts: dict[str, int] = {}

    def add(self, at: int, value: str) -> int:
        """Count ``value`` at ``at``; how many distinct values the window now holds."""
        events, counts = self.events, self.counts
        events.append((at, value))
        counts[value] = counts.get(value, 0) + 1
        horizon = at - self.seconds
        while events[0][0] <= horizon:
            gone = events.popleft()[1]
            left = counts[gone] - 1
            if left:
                counts[gone] = left
            else:
                del counts[gone]
        return len(counts)

    def values(self) -> set[str]:
        return set(self.counts)

    @property
    def latest(self) -> int:
        return self.events[-1][0] if self.events else 0


class Distinct(Window):
    """Distinct values per key within a sliding window."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.tallies: dict[str, Tally] = {}

    def add(self, key: str, at: int, value: str = "") -> deque[tuple[int, str]]:
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally(self.seconds)
        tally.add(at, value)
        return tally.events

    def distinct(self, key: str) -> set[str]:
        tally = self.tallies.get(key)
        return tally.values() if tally is not None else set()

    def count_distinct(self, key: str) -> int:
        tally = self.tallies.get(key)
        return len(tally.counts) if tally is not None else 0

    def prune(self, now: int) -> None:
        horizon = now - self.seconds
        for key in [k for k, t in self.tallies.items() if t.latest <= horizon]:
            del self.tallies[key]
