"""The queue as it is now: every ``-H`` file of Exim's spool (flat or split), or ``exim -bp``
when the spool cannot be read.  Read-only: nothing here changes the queue."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Final

from csm.errors import CommandError
from csm.mailqueue import spoolfiles
from csm.mailqueue.exim import Exim
from csm.mailqueue.model import QueuedMessage, QueueRead, SpoolProblem
from csm.mailqueue.spool import SpoolFormatError, parse

_BP_HEAD: Final = re.compile(
    r" {0,4}(?P<age>\d+[smhdw]) +(?P<size>\d+(?:\.\d+)?[KMGT]?) +(?P<id>[A-Za-z0-9-]{16,32})"
    r"(?: \((?P<user>[^)]*)\))? <(?P<sender>[^>]*)>(?P<frozen> \*\*\* frozen \*\*\*)?"
)
_AGE_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE_UNITS: Final = {"": 1, "K": 1024, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class Queue:
    """Exim's queue on this host."""

    def __init__(self, exim: Exim, spool: Path) -> None:
        self.exim, self.input = exim, spool / "input"

    def count(self) -> int:
        """How many messages are queued (as ``exim -bpc``), from the spool's file names."""
        try:
            return spoolfiles.count(self.input)
        except OSError:
            return self.exim.count()

    def read(self, now: int) -> QueueRead:
        """Every queued message; a spool file that cannot be read is reported and skipped."""
        try:
            files = sorted(spoolfiles.header_files(self.input))
        except OSError:
            return self._listed(now)
        found = QueueRead()
        for msgid, path in files:
            message = self._message(msgid, path, found)
            if message is not None:
                found.messages.append(message)
        return found

    def message(self, msgid: str) -> QueuedMessage | None:
        """One message by id (None when it is not queued, or no longer)."""
        path = self.header_path(msgid)
        return self._message(msgid, str(path), QueueRead()) if path is not None else None

    def header_path(self, msgid: str) -> Path | None:
        """The message's ``-H`` file: a regular file (not a link, not a pipe), or None."""
        return next((p for p in self._places(msgid) if _regular(p)), None)

    def _places(self, msgid: str) -> tuple[Path, ...]:
        return spoolfiles.places(self.input, msgid)

    def _message(self, msgid: str, path: str, found: QueueRead) -> QueuedMessage | None:
        try:
            data = spoolfiles.read(path)
            return parse(data, msgid, _size(path[:-1] + "D"))
        except FileNotFoundError:
            return None  # delivered or removed meanwhile
        except (OSError, SpoolFormatError) as exc:
            found.problems.append(SpoolProblem(msgid, str(path), str(exc)))
            return None

    def _listed(self, now: int) -> QueueRead:
        """The fallback: ``exim -bp`` (no headers, no authentication: fewer views work)."""
        done = self.exim.run("-bp")
        if done.returncode != 0:
            raise CommandError(f"the spool {self.input} is unreadable and `exim -bp` failed")
        return QueueRead(messages=parse_listing(done.text, now), source="exim -bp")


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _size(path: str) -> int:
    """The ``-D`` file's size (-1 when it is missing: Exim still lists the message)."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return -1


def parse_listing(text: str, now: int) -> list[QueuedMessage]:
    """``exim -bp``: a head line per message, then its recipients (``D`` for delivered)."""
    messages: list[QueuedMessage] = []
    head: re.Match[str] | None = None
    pending: list[str] = []
    delivered: list[str] = []
    for line in [*text.splitlines(), ""]:
        match = _BP_HEAD.fullmatch(line.rstrip())
        if match or not line.strip():
            if head is not None:
                messages.append(_listed_message(head, pending, delivered, now))
            head, pending, delivered = match, [], []
        elif head is not None:
            address = line.strip()
            if address.startswith("D "):
                delivered.append(address[2:].strip())
            else:
                pending.append(address)
    return messages


def _listed_message(
    head: re.Match[str], pending: list[str], delivered: list[str], now: int
) -> QueuedMessage:
    age = head["age"]
    number = head["size"].rstrip("KMGT")
    return QueuedMessage(
        id=head["id"],
        received=now - int(age[:-1]) * _AGE_UNITS[age[-1]],
        size=int(float(number) * _SIZE_UNITS[head["size"][len(number) :]]),
        frozen=head["frozen"] is not None,
        sender=head["sender"],
        recipients=tuple(pending),
        delivered=tuple(delivered),
        local_user=head["user"] or "",
        source="exim -bp",
    )
