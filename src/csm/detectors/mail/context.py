"""What every mail detector shares: the rule pack, who owns which domain, who is trusted, and
how findings are made (with the quiet period that stops one burst from alerting twice)."""

from __future__ import annotations

import ipaddress
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
        Finding(
            alert.check,
            alert.severity,
            alert.message,
            when,
            account=account,
            domain=alert.domain,
            mailbox=mailbox,
            remote_ip=alert.ip,
            path=alert.path,
            details=alert.details,
        )
    ]


def span(seconds: float) -> str:
    """A window's length for messages: ``10 minutes``."""
    return f"{int(seconds // 60)} minutes"


class Recent(Generic[V]):
    """A bounded map of the most recent entries: past ``limit``, the older half is dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: dict[str, V] = {}

    def get(self, key: str) -> V | None:
        return self.items.get(key)

    def forget(self, key: str) -> None:
        self.items.pop(key, None)

    def remember(self, key: str, value: V) -> None:
        items = self.items
        items[key] = value
        if len(items) > self.limit:
            for old in list(islice(items, self.limit // 2)):
                del items[old]


class Series:
    """The values recorded within a sliding time window, for one subject; times arrive in
    order.  Kept as two lists and a start index, compacted as it grows: cheaper than a deque
    of tuples on the hot path."""

    def __init__(self, seconds: float) -> None:
        self.seconds = int(seconds)
        self.times: list[int] = []
        self.values: list[str] = []
        self.start = 0  # times[:start] have left the window

    def add(self, at: int, value: str) -> int:
        """Record ``value`` at ``at``; how many values the window now holds."""
        self.times.append(at)
        self.values.append(value)
        self._expire(at - self.seconds)
        return len(self.times) - self.start

    def __len__(self) -> int:
        return len(self.times) - self.start

    def recent(self) -> list[str]:
        """The values in the window, oldest first."""
        return self.values[self.start :]

    @property
    def latest(self) -> int:
        return self.times[-1] if self.times else 0

    def _expire(self, horizon: int) -> None:
        times, start = self.times, self.start
        while times[start] <= horizon:
            start += 1
        self._left(start)

    def _left(self, start: int) -> None:
        """``times[:start]`` have left the window: compact the lists once half is spent."""
        if start > 64 and start * 2 > len(self.times):
            del self.times[:start], self.values[:start]
            start = 0
        self.start = start


class Tally(Series):
    """A series that also counts its distinct values (a mailbox's recipients or networks)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.counts: dict[str, int] = {}

    def add(self, at: int, value: str) -> int:
        """Record ``value`` at ``at``; how many distinct values the window now holds."""
        counts = self.counts
        counts[value] = counts.get(value, 0) + 1
        super().add(at, value)
        return len(counts)

    def distinct(self) -> set[str]:
        return set(self.counts)

    def _expire(self, horizon: int) -> None:
        times, values, counts, start = self.times, self.values, self.counts, self.start
        while times[start] <= horizon:
            value = values[start]
            left = counts[value] - 1
            if left:
                counts[value] = left
            else:
                del counts[value]
            start += 1
        self._left(start)


class Window:
    """A series per key (a mailbox, an IP, a sender) within one sliding window."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.series: dict[str, Series] = {}

    def add(self, key: str, at: int, value: str = "") -> Series:
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = self._new()
        series.add(at, value)
        return series

    def count(self, key: str) -> int:
        series = self.series.get(key)
        return len(series) if series is not None else 0

    @property
    def span(self) -> str:
        return span(self.seconds)

    def prune(self, now: int) -> None:
        """Forget keys with nothing left in the window (bounds memory on long logs)."""
        horizon = now - self.seconds
        for key in [k for k, s in self.series.items() if s.latest <= horizon]:
            del self.series[key]

    def _new(self) -> Series:
        return Series(self.seconds)


class Distinct(Window):
    """Distinct values per key within a sliding window."""

    def _new(self) -> Series:
        return Tally(self.seconds)

    def distinct(self, key: str) -> set[str]:
        series = self.series.get(key)
        return series.distinct() if isinstance(series, Tally) else set()
