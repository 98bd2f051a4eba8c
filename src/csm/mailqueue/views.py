"""Read-only views of the queue: summaries by recipient domain (``exiqsumm``), sender,
account, authenticated user and PHP script, and filtered lists.  Pure functions of the
messages read: no side effects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from csm.mailqueue.model import Brief, QueuedMessage, SpoolProblem

By = Literal["domain", "sender", "account", "auth", "script"]
BYS: Final = ("domain", "sender", "account", "auth", "script")
SAMPLES: Final = 3


@dataclass(slots=True)
class Row:
    """One line of a summary: the messages with ``key``, their volume and ages.  By domain, a
    message counts once per recipient in the domain (volume likewise), as exiqsumm counts."""

    key: str
    messages: int = 0
    recipients: int = 0
    volume: int = 0  # bytes
    frozen: int = 0
    oldest: int = 0  # the earliest receive time (epoch seconds)
    newest: int = 0
    accounts: list[str] = field(default_factory=list)  # the accounts the messages belong to
    subjects: list[str] = field(default_factory=list)  # a few, for recognising the mail


@dataclass(frozen=True, slots=True)
class Summary:
    by: str
    rows: tuple[Row, ...]  # the biggest first
    total: Row
    source: str  # "spool" or "exim -bp"
    problems: tuple[SpoolProblem, ...] = ()  # spool files that could not be read (skipped)


def summary(
    briefs: Sequence[Brief],
    accounts: Sequence[str],
    by: By,
    source: str = "spool",
    problems: tuple[SpoolProblem, ...] = (),
) -> Summary:
    """Per key: a message counts once for each of its keys; by domain, once per pending
    recipient in the domain (as exiqsumm counts); the total is the rows' sum, as in exiqsumm.
    ``accounts[i]`` is the account of ``briefs[i]`` ("" when unknown)."""
    tallies = _by_domain(briefs, accounts) if by == "domain" else _by_key(briefs, accounts, by)
    rows = sorted((t.row for t in tallies.values()), key=lambda r: (-r.messages, -r.volume, r.key))
    total = _Tally("TOTAL", 0)
    for row in rows:
        total.row.messages += row.messages
        total.row.recipients += row.recipients
        total.row.volume += row.volume
        total.row.frozen += row.frozen
    for b, account in zip(briefs, accounts, strict=True):
        if b.domains or by != "domain":  # a message with no pending recipient has no domain
            total.sample(b, account)
    return Summary(by, tuple(rows), total.row, source, problems)


class _Tally:
    """A row being counted: its accounts in order of appearance, its first few subjects."""

    __slots__ = ("accounts", "row")

    def __init__(self, key: str, received: int) -> None:
        self.row = Row(key, oldest=received, newest=received)
        self.accounts: dict[str, None] = {}

    def add(self, b: Brief, account: str, recipients: int, times: int) -> None:
        row = self.row
        row.messages += times
        row.recipients += recipients
        row.volume += b.size * times
        row.frozen += b.frozen
        self.sample(b, account)

    def sample(self, b: Brief, account: str) -> None:
        row = self.row
        row.oldest = min(row.oldest or b.received, b.received)
        row.newest = max(row.newest, b.received)
        if account and account not in self.accounts:
            self.accounts[account] = None
            row.accounts.append(account)
        subject = b.subject
        if subject and len(row.subjects) < SAMPLES and subject not in row.subjects:
            row.subjects.append(subject)


def _by_domain(briefs: Sequence[Brief], accounts: Sequence[str]) -> dict[str, _Tally]:
    """A message counts once per pending recipient in the domain (its domains are sorted)."""
    tallies: dict[str, _Tally] = {}
    for b, account in zip(briefs, accounts, strict=True):
        domains = b.domains
        at = 0
        while at < len(domains):
            domain = domains[at]
            end = at + 1
            while end < len(domains) and domains[end] == domain:
                end += 1
            tally = tallies.get(domain)
            if tally is None:
                tally = tallies[domain] = _Tally(domain, b.received)
            tally.add(b, account, end - at, end - at)
            at = end
    return tallies


def _by_key(briefs: Sequence[Brief], accounts: Sequence[str], by: By) -> dict[str, _Tally]:
    tallies: dict[str, _Tally] = {}
    for b, account, key in zip(briefs, accounts, _keys(briefs, accounts, by), strict=True):
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = _Tally(key, b.received)
        tally.add(b, account, len(b.domains), 1)
    return tallies


def _keys(briefs: Sequence[Brief], accounts: Sequence[str], by: By) -> list[str]:
    if by == "sender":
        return [b.sender.lower() or "<>" for b in briefs]
    if by == "account":
        return [a or "(unknown)" for a in accounts]
    if by == "auth":
        return [b.auth_id.lower() or "(not authenticated)" for b in briefs]
    return [b.script or "(no PHP script)" for b in briefs]


@dataclass(frozen=True, slots=True)
class Filter:
    account: str | None = None
    sender: str | None = None
    frozen: bool = False
    older_than: int | None = None  # seconds

    def matches(self, message: QueuedMessage, now: int) -> bool:
        if self.account is not None and message.account != self.account:
            return False
        if self.sender is not None and message.sender.lower() != self.sender.lower():
            return False
        if self.frozen and not message.frozen:
            return False
        return self.older_than is None or now - message.received > self.older_than


def listed(messages: Iterable[QueuedMessage], where: Filter, now: int) -> list[QueuedMessage]:
    return [m for m in messages if where.matches(m, now)]


def age(seconds: int) -> str:
    """An age as ``exim -bp`` writes it: minutes up to 90, then hours up to 72, then days."""
    minutes = max(seconds, 0) // 60
    if minutes <= 90:
        return f"{minutes}m"
    hours = (minutes + 30) // 60
    return f"{hours}h" if hours <= 72 else f"{(hours + 12) // 24}d"


def size(count: int) -> str:
    """A size as ``exim -bp`` writes it (bytes, then K and M with one decimal)."""
    if count < 10 * 1024:
        return str(count)
    if count < 10 * 1024 * 1024:
        return f"{count / 1024:.1f}K"
    return f"{count / (1024 * 1024):.1f}M"
