"""Read-only views of the queue: summaries by recipient domain (``exiqsumm``), sender,
account, authenticated user and PHP script, and filtered lists.  Pure functions of the
messages read: no side effects."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from csm.mailqueue.model import QueuedMessage, SpoolProblem

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

    def add(self, message: QueuedMessage, recipients: int, times: int = 1) -> None:
        self.messages += times
        self.recipients += recipients
        self.volume += message.size * times
        self.frozen += message.frozen
        self.oldest = min(self.oldest or message.received, message.received)
        self.newest = max(self.newest, message.received)
        if message.account and message.account not in self.accounts:
            self.accounts.append(message.account)
        subject = message.header("Subject")
        if subject and len(self.subjects) < SAMPLES and subject not in self.subjects:
            self.subjects.append(subject)


@dataclass(frozen=True, slots=True)
class Summary:
    by: str
    rows: tuple[Row, ...]  # the biggest first
    total: Row
    source: str  # "spool" or "exim -bp"
    problems: tuple[SpoolProblem, ...] = ()  # spool files that could not be read (skipped)


def summary(
    messages: Iterable[QueuedMessage], by: By, source: str = "spool",
    problems: tuple[SpoolProblem, ...] = (),
) -> Summary:  # fmt: skip
    """Per key: a message counts once for each of its keys; by domain, once per pending
    recipient in the domain (as exiqsumm counts); the total is the rows' sum, as in exiqsumm."""
    rows: dict[str, Row] = {}
    total = Row("TOTAL")
    keys = KEYS[by]
    for message in messages:
        for key, recipients in keys(message).items():
            times = recipients if by == "domain" else 1
            rows.setdefault(key, Row(key)).add(message, recipients, times)
            total.add(message, recipients, times)
    ordered = sorted(rows.values(), key=lambda r: (-r.messages, -r.volume, r.key))
    return Summary(by, tuple(ordered), total, source, problems)


def _domains(message: QueuedMessage) -> dict[str, int]:
    found: dict[str, int] = {}
    for recipient in message.recipients:
        domain = recipient.rpartition("@")[2].lower() if "@" in recipient else recipient.lower()
        found[domain] = found.get(domain, 0) + 1
    return found


def _one(key: Callable[[QueuedMessage], str]) -> Callable[[QueuedMessage], dict[str, int]]:
    return lambda message: {key(message): len(message.recipients)}


def script(message: QueuedMessage) -> str:
    """``host/path`` of the PHP script that sent it (``X-PHP-Script: host/path for ip``)."""
    value = message.header("X-PHP-Script")
    return value.partition(" for ")[0].partition("?")[0] if value else ""


KEYS: Final[dict[str, Callable[[QueuedMessage], dict[str, int]]]] = {
    "domain": _domains,
    "sender": _one(lambda m: m.sender.lower() or "<>"),
    "account": _one(lambda m: m.account or "(unknown)"),
    "auth": _one(lambda m: m.auth_id.lower() or "(not authenticated)"),
    "script": _one(lambda m: script(m) or "(no PHP script)"),
}


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
