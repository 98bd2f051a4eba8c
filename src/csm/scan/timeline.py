"""``csm mail timeline``: one mailbox's (or account's) day, rebuilt from the mail logs in order:
failed logins, the first login or submission from each new network, bursts of sending,
bounces and deferrals, holds; with counts per hour.  What operators otherwise piece together
with ``exigrep`` and hand-written greps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from csm.accounts.domains import DomainMap
from csm.detectors.mail.repeats import Repeats
from csm.errors import UsageError
from csm.logtail import files
from csm.logtail.formats import exim, eximauth, maillog, text
from csm.logtail.formats.events import SUCCESS, AuthEvent

HOUR = 3600
COUNTS = ("sent", "logins", "failed_logins", "bounces", "deferrals")


@dataclass(frozen=True, slots=True)
class Entry:
    time: datetime
    kind: str  # failed_login, new_network, burst, bounce, deferral, hold
    detail: str
    ip: str = ""


@dataclass(frozen=True, slots=True)
class Hour:
    hour: datetime
    sent: int
    logins: int
    failed_logins: int
    bounces: int
    deferrals: int


@dataclass(slots=True)
class MailTimeline:
    subject: str
    hours: list[Hour] = field(default_factory=list)
    events: list[Entry] = field(default_factory=list)


@dataclass
class _Walk:
    """The state of one walk over the logs."""

    subject: str
    domains: DomainMap
    burst: int
    since: int
    counts: dict[int, Counter[str]] = field(default_factory=dict)
    events: list[Entry] = field(default_factory=list)
    networks: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)
    bursts: set[int] = field(default_factory=set)
    repeats: Repeats = field(default_factory=Repeats)
    copies: exim.SyslogCopies = field(default_factory=exim.SyslogCopies)

    def mine(self, address: str) -> bool:
        address = address.lower()
        if "@" in self.subject:
            return address == self.subject
        return self.domains.owner(address) == self.subject or address == self.subject

    def count(self, at: int, what: str, times: int = 1) -> int:
        hour = self.counts.setdefault(at - at % HOUR, Counter())
        hour[what] += times
        return hour[what]

    def note(self, at: int, kind: str, detail: str, ip: str = "") -> None:
        self.events.append(Entry(datetime.fromtimestamp(at, UTC), kind, detail, ip))

    def network(self, at: int, ip: str, how: str) -> None:
        net = ".".join(ip.split(".")[:2]) if "." in ip else ip.rsplit(":", 5)[0]
        if ip and net not in self.networks:
            self.networks.add(net)
            self.note(at, "new_network", f"first {how} from network {net}.*", ip)


def build(
    subject: str, paths: Iterable[Path], domains: DomainMap, burst: int, since: datetime | None
) -> MailTimeline:
    """``subject``'s day: a mailbox (``user@domain``) or an account; never empty (an empty
    subject would match every address no account owns: the whole host's mail)."""
    subject = subject.strip()
    if not subject:
        raise UsageError("name a mailbox (user@domain) or an account: the subject is empty")
    walk = _Walk(subject.lower(), domains, burst, int(since.timestamp()) if since else 0)
    for _, _, handle in sorted(_lines(walk, paths), key=lambda item: item[:2]):
        handle()
    hours = [
        Hour(datetime.fromtimestamp(h, UTC), *(c[k] for k in COUNTS))
        for h, c in sorted(walk.counts.items())
    ]
    return MailTimeline(subject, hours, sorted(walk.events, key=lambda e: e.time))


def _lines(walk: _Walk, paths: Iterable[Path]) -> Iterator[tuple[int, int, Callable[[], None]]]:
    """Every line of every log with its time, so the mainlog and the maillog interleave."""
    order = 0
    for log in files.ordered(list(paths)):
        for raw in map(text.line, files.lines(log)):
            order += 1
            line = exim.parse(raw, log.year)
            if line is not None:
                if _relevant(walk, line, raw) and not walk.copies.copy(raw, line):
                    yield line.time, order, partial(_exim, walk, line, raw)
                continue
            event = maillog.parse(raw, log.year)
            if event is not None and walk.mine(event.user):
                yield event.time, order, partial(_login, walk, event)


def _relevant(walk: _Walk, line: exim.EximLine, raw: str) -> bool:
    """Only the subject's lines are kept for the second, time-ordered pass."""
    if line.flag == "<=":
        mail = exim.arrival(line.rest)
        mine = mail is not None and (
            walk.mine(mail.auth_id) or bool(mail.user and walk.mine(mail.user))
        )
        if mine:
            walk.messages.add(line.msgid)
        return mine
    if line.flag in ("**", "=="):
        return line.msgid in walk.messages
    return "outgoing mail hold" in raw or "authenticator failed" in line.rest


def _exim(walk: _Walk, line: exim.EximLine, raw: str) -> None:
    if line.time < walk.since:
        return
    if line.flag == "<=":
        _sent(walk, line)
    elif line.flag in ("**", "==") and line.msgid in walk.messages:
        kind = "bounces" if line.flag == "**" else "deferrals"
        walk.count(line.time, kind)
        walk.note(line.time, kind[:-1], text.field(line.rest)[:160])
    elif "outgoing mail hold" in raw and _names_domain(walk, raw):
        walk.note(line.time, "hold", text.field(line.rest)[:160])
    elif line.flag == "" and "authenticator failed" in line.rest:
        failed = eximauth.auth_failure(line.rest)
        if failed and failed.guess and walk.mine(failed.login):
            walk.count(line.time, "failed_logins", failed.times)
            walk.note(line.time, "failed_login", f"SMTP AUTH as {failed.login}", failed.ip)


def _sent(walk: _Walk, line: exim.EximLine) -> None:
    mail = exim.arrival(line.rest)
    if mail is None:
        return
    sent = walk.count(line.time, "sent")
    walk.network(line.time, mail.ip, "submission")
    hour = line.time - line.time % HOUR
    if sent == walk.burst and hour not in walk.bursts:
        walk.bursts.add(hour)
        walk.note(line.time, "burst", f"{sent} messages sent within the hour", mail.ip)


def _login(walk: _Walk, event: AuthEvent) -> None:
    if event.time < walk.since:
        return
    for ip, _, times in walk.repeats.count(event):
        walk.count(event.time, "failed_logins", times)
        many = f" ({times} attempts)" if times > 1 else ""
        walk.note(event.time, "failed_login", f"{event.service} login failed{many}", ip)
    if event.result == SUCCESS:
        walk.count(event.time, "logins")
        walk.network(event.time, event.ip, f"{event.service} login")


def _names_domain(walk: _Walk, raw: str) -> bool:
    domain = walk.subject.rpartition("@")[2]
    return bool(domain) and domain in text.field(raw).lower()


def default_logs(mainlog: Path, maillog: Path) -> list[Path]:
    """The configured logs and their rotated siblings (``x.1``, ``x.2.gz``, ``x-20261120``)."""
    return [*files.rotated_set(mainlog), *files.rotated_set(maillog)]
