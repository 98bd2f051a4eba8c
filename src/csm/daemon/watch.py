"""One followed log through the mail detectors, as ``csm check-logs`` reads it (the same
detectors, the same finding ids), with the position to store alongside its findings.

Where a restart resumes is earlier than where reading stopped: far enough back (the longest
detector window) that the detectors' windows hold what they held, so a burst the daemon was
killed in the middle of is seen whole; the findings of those lines that were recorded before
are not recorded again (their ids are known)."""

from __future__ import annotations

import logging
import sqlite3
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from csm.clock import Clock
from csm.daemon.journal import event
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.pipeline import MailDetectors
from csm.incidents.model import Finding
from csm.logtail.follower import LINE_CAP, Chunk, Follower, same_file
from csm.scan.logs import Origins, sift
from csm.store import positions
from csm.store.positions import LogPosition, Position

MAX_CHUNKS = 16  # per step: a backlog is read over several steps, others taking turns
MARK_EVERY = 60  # seconds of log time between two places a restart may resume from


@dataclass(frozen=True, slots=True)
class WatchStatus:
    attached: bool
    path: str
    error: str
    lag_bytes: int
    lag_seconds: float  # how far the last line read is behind the clock
    lines: int  # read for the first time by this process
    replayed: int  # read again after a restart, to fill the detectors' windows
    skipped: int
    rotations: int
    truncations: int


@dataclass(slots=True)
class Step:
    findings: list[Finding]
    checkpoint: Checkpoint | None  # None: nothing was read


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The watch's position, written with the findings of the lines read up to it."""

    position: LogPosition

    def write(self, conn: sqlite3.Connection) -> None:
        positions.save(conn, self.position)


@dataclass
class LogWatch:
    name: str  # "mainlog", "maillog", "cpanel_access"
    path: Path
    kind: str  # "exim", "maillog" or "cpanel" (see csm.scan.logs.sift)
    context: MailContext
    clock: Clock
    follower: Follower
    since: datetime | None = None  # findings before this are not recorded (--replay-from)
    replay_until: Position | None = None  # where the last run stopped reading (a restart)
    replayed: int = 0
    detectors: MailDetectors = field(init=False)
    _origins: tuple[str, Origins] = field(init=False)
    _marks: deque[tuple[int, Position]] = field(init=False)  # (log time, where it began)
    _window: int = field(init=False)  # the longest detector window, in seconds
    _last_time: int = 0

    def __post_init__(self) -> None:
        self.detectors = MailDetectors(self.context)
        self._origins = ("", Origins())
        self._marks = deque()
        self._window = int(_longest_window(self.context).total_seconds())

    @classmethod
    def start(  # noqa: PLR0913 - what a watch is made of
        cls,
        name: str,
        path: Path,
        kind: str,
        context: MailContext,
        clock: Clock,
        stored: LogPosition | None,
        *,
        replay_from: datetime | None = None,
        cap: int = LINE_CAP,
    ) -> LogWatch:
        """From the stored position (its resume point); a first start reads from the end of
        the log, or with ``replay_from`` from its beginning (findings before it left out)."""
        if replay_from is not None:
            follower = Follower(path, from_start=True, cap=cap)
        elif stored is not None and stored.path == str(path):
            follower = Follower(path, stored.resume, cap=cap)
            return cls(name, path, kind, context, clock, follower, None, stored.read)
        else:
            follower = Follower(path, cap=cap)
        return cls(name, path, kind, context, clock, follower, replay_from)

    def step(self) -> Step:
        """What was appended since the last step (up to a bound), through the detectors."""
        found: list[Finding] = []
        stats = self.follower.stats
        seen = (stats.rotations, stats.truncations, stats.error)
        for _ in range(MAX_CHUNKS):
            chunks = self.follower.poll()
            for chunk in chunks:
                found += self._sift(chunk)
            if not chunks and not self.follower.pending:
                break
        if (stats.rotations, stats.truncations, stats.error) != seen:
            self._report(seen)
        position = self.follower.position
        if position is None:  # between two files: the last checkpoint stands
            return Step(found, None)
        stored = LogPosition(self.name, str(self.path), position, self._resume(), self.clock.now())
        return Step(found, Checkpoint(stored))

    def status(self) -> WatchStatus:
        stats, now = self.follower.stats, self.clock.now().timestamp()
        behind = max(0.0, now - self._last_time) if self._last_time else 0.0
        return WatchStatus(
            self.follower.attached,
            str(self.path),
            stats.error,
            self.follower.lag,
            round(behind if self.follower.lag else 0.0, 3),
            stats.lines - self.replayed,
            self.replayed,
            stats.skipped,
            stats.rotations,
            stats.truncations,
        )

    def close(self) -> None:
        self.follower.close()

    def _report(self, seen: tuple[int, int, str]) -> None:
        stats = self.follower.stats
        if stats.rotations != seen[0]:
            event("watch.rotated", "log rotated", watch=self.name, rotations=stats.rotations)
        if stats.truncations != seen[1]:
            event(
                "watch.truncated", "log truncated", watch=self.name, truncations=stats.truncations
            )
        if stats.error != seen[2]:
            level = logging.WARNING if stats.error else logging.INFO
            event(
                "watch.attached" if not stats.error else "watch.detached",
                stats.error or "log attached",
                level=level,
                watch=self.name,
            )

    def _sift(self, chunk: Chunk) -> list[Finding]:
        self._count_replayed(chunk)
        year = self.clock.now().year
        found = sift(self.detectors, self.kind, chunk.lines, year, len(chunk.lines))
        origins = self._origins_for(chunk.position.head)
        found = [origins.stamp(f) for f in found]
        now = self.detectors.now or self._last_time
        self._last_time = now
        self._mark(now, Position(*_identity(chunk), chunk.start))
        if self.since is not None:
            found = [f for f in found if f.time >= self.since]
        return found

    def _count_replayed(self, chunk: Chunk) -> None:
        """Lines of ``chunk`` the last run had read already (before ``replay_until``)."""
        until = self.replay_until
        if until is None:
            return
        if not same_file(chunk.position, until):
            if chunk.source != str(self.path):  # a rotated file before the last run's
                self.replayed += len(chunk.lines)
            else:  # the file at the name, and not the last run's: past it
                self.replay_until = None
            return
        offset, again = chunk.start, 0
        for line in chunk.lines:
            if offset >= until.offset:
                self.replay_until = None  # past where the last run stopped: new lines
                break
            offset, again = offset + len(line) + 1, again + 1
        self.replayed += again

    def _origins_for(self, head: str) -> Origins:
        """Finding ids as ``check-logs`` gives them: per file (its head)."""
        if self._origins[0] != head:
            self._origins = (head, Origins(head=head))
        return self._origins[1]

    def _mark(self, at: int, begun: Position) -> None:
        """Where lines of log time ``at`` began (one mark a minute at most); the first mark
        kept is the last one at least the longest window before ``at``."""
        if not self._marks or at >= self._marks[-1][0] + MARK_EVERY:
            self._marks.append((at, begun))
        horizon = at - self._window
        while len(self._marks) > 1 and self._marks[1][0] <= horizon:
            self._marks.popleft()

    def _resume(self) -> Position:
        """Where a restart reads from: the oldest mark kept; before the first line of this
        run, where this run began (a first start at the end of a log is kept at once, so a
        restart does not skip what was written in between)."""
        if self._marks:
            return self._marks[0][1]
        assert self.follower.position is not None
        return self.follower.position


def _identity(chunk: Chunk) -> tuple[int, int, str]:
    position = chunk.position
    return position.device, position.inode, position.head


def _longest_window(context: MailContext) -> timedelta:
    rules = context.rules
    windows = [value for value in vars(rules).values() if isinstance(value, timedelta)]
    return max(windows, default=timedelta(hours=1))
