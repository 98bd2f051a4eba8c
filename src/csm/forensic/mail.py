"""The mail captures of ``--with-mail`` (beyond the Go tool).

``logs/exim_mainlog.txt``: the mainlog lines of the window (the configured log and its
rotated siblings, ``.gz`` included, oldest first) that mention one of the account's domains
(so its mailboxes), its user (``U=<user>``) or its home; once a line of a message matches,
every later line of that message does too, as ``exigrep`` follows a message.  Lines are kept
byte for byte.

``mail/queue-headers.txt``: the ``-H`` spool file of each queued message that belongs to the
account (:mod:`csm.mailqueue.owner`), in message-id order, each after a ``==> <id>-H <==``
line.  Headers and envelope only: bodies (``-D``) are never read."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from csm.accounts.domains import DomainMap
from csm.config.model import MailConfig
from csm.errors import CsmError, UnreadableInputError
from csm.forensic.model import Listing
from csm.host import Host
from csm.logtail import files
from csm.logtail.formats import exim, text
from csm.mailqueue import owner, spoolfiles
from csm.mailqueue.exim import Exim
from csm.mailqueue.reader import Queue


@dataclass(frozen=True, slots=True)
class MailSources:
    mainlog: Path  # the configured Exim mainlog's real path
    queue: Queue
    domains: DomainMap  # domain -> account (cPanel's /etc/userdomains)
    users: frozenset[str]  # every account name (a message's submitting user is one of them)

    @classmethod
    def from_config(cls, mail: MailConfig, host: Host, users: Collection[str]) -> MailSources:
        queue = Queue(Exim(mail, host), host.path(mail.exim_spool))
        return cls(host.path(mail.exim_mainlog), queue, DomainMap.load(host), frozenset(users))

    def domains_of(self, account: str) -> list[str]:
        return sorted(d for d, user in self.domains.owners.items() if user == account)


def log_lines(
    sources: MailSources, account: str, home: str, window: tuple[int, int], out: BinaryIO
) -> Listing:
    """Write the account's mainlog lines with a time in ``window`` (epoch seconds, inclusive)."""
    listing, follow = Listing(), _Follow(_pattern(account, sources.domains_of(account), home))
    logs = _logs(sources.mainlog, window[0], listing)
    if not logs and not listing.errors and not sources.mainlog.exists():
        listing.errors.append(f"no mainlog at {sources.mainlog}")
    for log in logs:
        try:
            follow.copy(log, window, out)
        except UnreadableInputError as exc:  # what was read of it is kept
            listing.errors.append(exc.message)
    listing.count = follow.copied
    return listing


def queue_headers(sources: MailSources, account: str, now: int, out: BinaryIO) -> Listing:
    """Write the ``-H`` file of each of the account's queued messages."""
    listing = Listing()
    try:
        found = sources.queue.read(now)
    except CsmError as exc:
        listing.errors.append(exc.message)
        return listing
    listing.errors += [f"spool file {p.path}: {p.error}" for p in found.problems]
    if found.source != "spool":  # no spool files to copy; an empty queue is no error
        if found.messages:
            listing.errors.append(f"the spool is unreadable, and {found.source} shows no headers")
        return listing
    for message in sorted(found.messages, key=lambda m: m.id):
        if owner.owner(message, sources.domains, sources.users)[0] == account:
            listing.count += _header_file(sources.queue, message.id, out, listing)
    return listing


def _header_file(queue: Queue, msgid: str, out: BinaryIO, listing: Listing) -> int:
    path = queue.header_path(msgid)
    try:
        data = spoolfiles.read(path) if path is not None else None
    except FileNotFoundError:
        return 0  # delivered or removed since the queue was read
    except OSError as exc:
        listing.errors.append(f"{path}: {exc.strerror or exc}")
        return 0
    if data is None:
        return 0  # delivered or removed since the queue was read
    out.write(f"==> {msgid}-H <==\n".encode() + data.rstrip(b"\n") + b"\n\n")
    return 1


class _Follow:
    """The lines that mention the account, and every later line of the messages they name."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.messages, self.copied = pattern, set[str](), 0

    def copy(self, log: files.LogFile, window: tuple[int, int], out: BinaryIO) -> None:
        for raw in files.lines(log):
            line = text.line(raw)
            parsed = exim.parse(line, log.year)
            if parsed is None or not window[0] <= parsed.time <= window[1]:
                continue
            if parsed.msgid in self.messages or self.pattern.search(line):
                if parsed.msgid:
                    self.messages.add(parsed.msgid)
                out.write(raw if raw.endswith(b"\n") else raw + b"\n")
                self.copied += 1


def _pattern(account: str, domains: Iterable[str], home: str) -> re.Pattern[str]:
    """A domain as a whole name (``info@shop.test``, ``mail.shop.test``; not ``myshop.test`` or
    ``shop.test.evil``), ``U=<user>``, or a path in the home."""
    names = "|".join(re.escape(d) for d in sorted(domains, key=len, reverse=True))
    user = re.escape(account)
    parts = [rf"\bU={user}(?![\w-])", rf"{re.escape(home)}(?![\w-])"]
    if names:
        parts.insert(0, rf"(?<![\w-])(?:{names})(?![\w-]|\.\w)")
    return re.compile("|".join(parts), re.IGNORECASE)


def _logs(mainlog: Path, start: int, listing: Listing) -> list[files.LogFile]:
    """The mainlog and its rotated siblings that were written to since ``start``."""
    try:
        found = files.rotated_set(mainlog)
        return files.ordered([p for p in found if p.stat().st_mtime >= start])
    except OSError as exc:
        listing.errors.append(f"{mainlog.parent}: {exc.strerror or exc}")
    except CsmError as exc:  # a file rotated away while being listed
        listing.errors.append(exc.message)
    return []
