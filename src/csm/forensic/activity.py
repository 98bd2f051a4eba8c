"""One hosting account's mail, hour by hour (the web UI's account page): messages it sent,
failed logins to its mailboxes, and client networks it was used from for the first time.

Read from the tail of the Exim mainlog and the maillog with the detectors' own parsers
(:mod:`csm.logtail.formats`).  A line is the account's when it names one of its mailboxes
(an address at one of its domains) or the account itself (a bare login, Exim's ``U=``):

- *sent*: an arrival (``<=``) whose ``U=`` is the account, or that came with ``A=`` and
  whose authenticated login or envelope sender is the account's;
- *failures*: Exim's refused SMTP AUTH (``535 … (set_id=…)``) and Dovecot's (or Postfix's)
  failed logins, each failed attempt once however many lines name it
  (:class:`~csm.detectors.mail.repeats.Repeats`);
- *new networks*: the networks (IPv4 /24, IPv6 /48) of successful logins and of those
  submissions, counted in the hour they first appear within the window.

Syslog times carry no year: the year of ``now``, or the year before for a time that would
otherwise lie more than a day ahead of ``now`` (December's lines read in January)."""

from __future__ import annotations

import ipaddress
import os
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Final, Protocol, TypeVar

from csm.detectors.mail.repeats import Repeats
from csm.logtail.formats import exim, eximauth, maillog, text
from csm.logtail.formats.events import SUCCESS, AuthEvent

HOUR: Final = 3600
AHEAD: Final = 86_400  # a time further ahead of now than this is last year's
MAX_BYTES: Final = 64 * 1024 * 1024
EXIM_HINTS: Final = (b" <= ", b"authenticator failed")  # the only Exim lines counted


@dataclass(frozen=True, slots=True)
class Hour:
    start: datetime  # the UTC hour's first second
    sent: int
    failures: int
    new_networks: int


@dataclass(frozen=True, slots=True)
class Activity:
    account: str
    hours: tuple[Hour, ...]  # oldest first; the last holds ``now``
    lines: int  # log lines read (both logs)
    truncated: bool  # a log was read from past its beginning (``max_bytes``)


class _Timed(Protocol):
    @property
    def time(self) -> int: ...


T = TypeVar("T", bound=_Timed)


@dataclass
class _Walk:
    """What one read of the logs has counted so far."""

    account: str
    domains: frozenset[str]
    first: int  # the window's first hour (epoch seconds)
    end: int  # the window's end: the end of ``now``'s hour
    year: int
    sent: Counter[int] = field(default_factory=Counter)
    failures: Counter[int] = field(default_factory=Counter)
    networks: dict[str, int] = field(default_factory=dict)  # network -> first time seen
    repeats: Repeats = field(default_factory=Repeats)
    copies: exim.SyslogCopies = field(default_factory=exim.SyslogCopies)
    lines: int = 0
    truncated: bool = False

    def line(self, raw: bytes) -> None:
        """Count one line; one no parser can read is skipped, whatever it holds."""
        self.lines += 1
        try:
            self._line(raw, text.line(raw).rstrip("\r\n"))
        except (ValueError, IndexError, KeyError):  # the parsers' own guards missed a shape
            return

    def _line(self, raw: bytes, line: str) -> None:
        if any(hint in raw for hint in EXIM_HINTS):
            parsed = self._dated(exim.parse, line)
            if parsed is not None:
                if not self.copies.copy(line, parsed):
                    self._exim(parsed)
                return
        event = self._dated(maillog.parse, line)
        if event is not None:
            self._login(event)

    def _dated(self, parse: Callable[[str, int], T | None], line: str) -> T | None:
        found = parse(line, self.year)
        if found is not None and found.time > self.end + AHEAD:
            return parse(line, self.year - 1)
        return found

    def _exim(self, line: exim.EximLine) -> None:
        if not self.within(line.time):
            return
        if line.flag == "<=":
            mail = exim.arrival(line.rest)
            if mail is not None and self._submitted(mail):
                self.sent[self.index(line.time)] += 1
                self._network(line.time, mail.ip)
        elif not line.flag and "authenticator failed" in line.rest:
            failed = eximauth.auth_failure(line.rest)
            if failed is not None and failed.guess and self.mine(failed.login):
                self.failures[self.index(line.time)] += failed.times

    def _login(self, event: AuthEvent) -> None:
        counted = self.repeats.count(event)  # every event: sessions settle across the edge
        if not self.within(event.time):
            return
        failed = sum(times for _, user, times in counted if self.mine(user))
        if failed:
            self.failures[self.index(event.time)] += failed
        if event.result == SUCCESS and self.mine(event.user):
            self._network(event.time, event.ip)

    def _submitted(self, mail: exim.Arrival) -> bool:
        if mail.user and self.account and mail.user.lower() == self.account:
            return True
        return bool(mail.auth) and (self.mine(mail.auth_id) or self.mine(mail.sender))

    def _network(self, at: int, ip: str) -> None:
        net = network(ip)
        if net and at < self.networks.get(net, self.end):
            self.networks[net] = at

    def mine(self, login: str) -> bool:
        """An address at one of the account's domains, or the account's own bare login."""
        login = login.lower()
        local, at, domain = login.rpartition("@")
        if at:
            return bool(local) and domain in self.domains
        return bool(self.account) and login == self.account

    def within(self, at: int) -> bool:
        return self.first <= at < self.end

    def index(self, at: int) -> int:
        return (at - self.first) // HOUR


@lru_cache(maxsize=4096)  # the same clients recur on every busy log
def network(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) of a validated address; "" for none."""
    if not ip:
        return ""
    prefix = 24 if "." in ip else 48
    try:
        return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
    except ValueError:
        return ""


def activity(  # noqa: PLR0913 - the logs, whose mail, and the window
    mainlog: Path,
    maillog: Path,
    domains: frozenset[str],
    now: datetime,
    hours: int = 48,
    max_bytes: int = MAX_BYTES,
    *,
    account: str,
) -> Activity:
    """``account``'s mail per UTC hour over the ``hours`` hours that end with ``now``'s, from at
    most the last ``max_bytes`` of each log.  A missing or unreadable log counts as empty."""
    if hours < 1:
        raise ValueError("hours must be at least 1")
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    stamp = int(moment.timestamp())
    end = stamp - stamp % HOUR + HOUR
    walk = _Walk(
        account.lower(),
        frozenset(d.lower() for d in domains),
        end - hours * HOUR,
        end,
        moment.astimezone(UTC).year,
    )
    for path in (mainlog, maillog):
        read(path, max_bytes, walk)
    return Activity(account, _hours(walk, hours), walk.lines, walk.truncated)


def _hours(walk: _Walk, count: int) -> tuple[Hour, ...]:
    new = Counter(walk.index(at) for at in walk.networks.values())
    return tuple(
        Hour(
            datetime.fromtimestamp(walk.first + i * HOUR, UTC),
            walk.sent[i],
            walk.failures[i],
            new[i],
        )
        for i in range(count)
    )


def read(path: Path, max_bytes: int, walk: _Walk) -> None:
    """Feed ``walk`` the lines of the file's last ``max_bytes``, from the first line that
    starts within them; lines written after the read began are left for the next one."""
    try:
        with path.open("rb") as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                return  # a FIFO or a device has no tail to read
            start = _line_start(stream, info.st_size - max_bytes)
            walk.truncated = walk.truncated or start > 0
            budget = info.st_size - start
            for raw in stream:
                budget -= len(raw)
                if budget < 0:
                    return
                walk.line(raw)
    except OSError:
        return  # missing or unreadable: empty, or what was read before the error


def _line_start(stream: BinaryIO, offset: int) -> int:
    """Where the first line that starts at or after ``offset`` begins; the stream left there."""
    if offset <= 0:
        return 0
    stream.seek(offset - 1)
    return offset - 1 + len(stream.readline())
