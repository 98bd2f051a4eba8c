"""``csm check-logs``: the mail detectors over existing logs, without a daemon, like
``fail2ban-regex`` but for incidents.  With a store, the findings go to the incidents engine."""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from csm.detectors.mail.context import MailContext
from csm.detectors.mail.pipeline import MailDetectors
from csm.errors import UnreadableInputError, UsageError
from csm.incidents.model import Finding, RecordResult
from csm.logtail import files
from csm.logtail.follower import HEAD_BYTES, head_hash
from csm.logtail.formats import cpanel, exim, text
from csm.scan import logreader

if TYPE_CHECKING:  # the incidents engine is imported only when findings are recorded
    from csm.incidents.service import Incidents

Source = Literal["auto", "exim", "maillog", "cpanel"]
SOURCES: tuple[Source, ...] = ("auto", "exim", "maillog", "cpanel")
BATCH = 5_000
DETECT_LINES = 50
Progress = Callable[[int], None]  # lines read so far in the current file
BATCH_BYTES = 4 << 20  # lines are read and handed to the detectors in batches of ~4 MB


def source_named(name: str) -> Source:
    """The log source called ``name`` (``auto``: detected per file)."""
    for source in SOURCES:
        if source == name:
            return source
    raise UsageError(f"--source must be one of {', '.join(SOURCES)}, not {name!r}")


@dataclass(frozen=True, slots=True)
class FileReport:
    path: Path
    source: str
    lines: int
    parsed: int
    skipped: int
    findings: int
    error: str | None = None  # why reading stopped early (a truncated .gz): the rest is unread


@dataclass(slots=True)
class LogReport:
    files: list[FileReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    by_check: dict[str, int] = field(default_factory=dict)
    recorded: RecordResult | None = None

    @property
    def errors(self) -> list[str]:
        return [f.error for f in self.files if f.error]


@dataclass
class LogCheck:
    context: MailContext
    since: datetime | None = None
    incidents: Incidents | None = None
    year: int | None = None
    helper_from: int = logreader.HELPER_FROM  # mainlogs this big are read in a helper process

    def run(
        self, paths: list[Path], source: Source = "auto", progress: Progress | None = None
    ) -> LogReport:
        detectors, report = MailDetectors(self.context), LogReport()
        for log in files.ordered(paths):
            before = len(report.findings)
            counts = {**detectors.lines, "read": detectors.read}
            kind: str = source
            error = None
            try:  # a damaged file is reported, and what was read of it (and the rest) counts
                kind = source if source != "auto" else _detect(log)
                self._check(detectors, log, kind, progress, report.findings)
            except UnreadableInputError as exc:
                error = exc.message
            found = len(report.findings) - before
            report.files.append(_file_report(log, kind, counts, detectors, found, error))
        # The mainlog's and the maillog's findings interleave in time: record them in order.
        report.findings.sort(key=lambda f: f.time)
        if self.incidents is not None:
            chunks = range(0, len(report.findings), BATCH)
            results = [self.incidents.record(report.findings[i : i + BATCH]) for i in chunks]
            report.recorded = _sum(results)
        report.by_check = dict(sorted(detectors.findings.items()))
        return report

    def _check(
        self,
        detectors: MailDetectors,
        log: files.LogFile,
        kind: str,
        progress: Progress | None,
        findings: list[Finding],
    ) -> None:
        year = self.year or log.year
        since = self.since.timestamp() if self.since else None
        start, origins = detectors.read, Origins(log)
        for batch, read in self._batches(log, kind):
            found = sift(detectors, kind, batch, year, read)
            found = [origins.stamp(f) for f in found]  # before --since: the same ids every run
            findings += (f for f in found if since is None or f.time.timestamp() >= since)
            if progress is not None:
                progress(detectors.read - start)

    def _batches(self, log: files.LogFile, kind: str) -> Iterator[logreader.Batch]:
        if kind == "exim":  # big mainlogs are read and sifted in a helper process
            return logreader.batches(log, BATCH_BYTES, self.helper_from)
        return ((batch, len(batch)) for batch in files.batches(log, BATCH_BYTES))


def sift(
    detectors: MailDetectors, kind: str, lines: list[bytes], year: int, read: int = -1
) -> list[Finding]:
    """A batch of one log's lines (without their newlines) through the detectors: ``exim``
    for Exim's mainlog, ``cpanel`` for cpsrvd's access log, else a syslog mail log.
    ``read``: the lines the batch stands for (a helper process may have left out lines that
    cannot matter)."""
    if kind == "exim":
        return detectors.exim_lines(lines, year, read)
    if kind == "cpanel":
        return detectors.cpanel_lines(lines)
    return detectors.maillog_lines(lines, year)


class Origins:
    """Deterministic ids for a file's findings: the file's identity (a hash of its first KiB,
    which appending, renaming, compressing or copying the file keeps) and each finding's
    place among the identical findings it yields; the same file read again gives the same ids,
    so its findings are recorded once."""

    def __init__(self, log: files.LogFile | None = None, head: str = "") -> None:
        self.log, self.head, self.seen = log, head, Counter[str]()

    def stamp(self, finding: Finding) -> Finding:
        if not self.head and self.log is not None:
            self.head = _head_hash(self.log)
        mark = finding.fingerprint
        place = self.seen[mark]
        self.seen[mark] += 1
        origin = hashlib.sha256(f"log\x1f{self.head}\x1f{mark}\x1f{place}".encode()).hexdigest()
        return dataclasses.replace(finding, origin=origin[:32])


def _head_hash(log: files.LogFile) -> str:
    """The file's identity as the daemon's follower knows it (its first line), so that a
    file both read are recorded once; a file without a whole first line: its bytes."""
    head = b""
    for line in files.lines(log):
        head += line
        if len(head) >= HEAD_BYTES:
            break
    return head_hash(head[:HEAD_BYTES]) or hashlib.sha256(head).hexdigest()


def _detect(log: files.LogFile) -> str:
    """``exim`` when the name says so or a line in the first few is in Exim's own shape (its
    timestamp first); ``cpanel`` when one is a line of cpsrvd's access log; else ``maillog``,
    which reads syslog-wrapped Exim lines too."""
    if "exim" in log.path.name:
        return "exim"
    for number, line in enumerate(files.lines(log)):
        decoded = text.line(line)
        if exim.own_shape(decoded) and exim.parse(decoded, log.year) is not None:
            return "exim"
        if cpanel.parse(decoded) is not None:
            return "cpanel"
        if number > DETECT_LINES:
            break
    return "maillog"


def _file_report(
    log: files.LogFile,
    kind: str,
    before: dict[str, int],
    detectors: MailDetectors,
    findings: int,
    error: str | None,
) -> FileReport:
    def delta(key: str) -> int:
        now = detectors.read if key == "read" else detectors.lines[key]
        return now - before.get(key, 0)

    lines, parsed, skipped = delta("read"), delta("parsed"), delta("skipped")
    return FileReport(log.path, kind, lines, parsed, skipped, findings, error)


def _sum(results: list[RecordResult]) -> RecordResult:
    if not results:
        return RecordResult(0, 0, 0, 0, ())
    ids = tuple(dict.fromkeys(i for r in results for i in r.incidents))
    return RecordResult(
        sum(r.created for r in results),
        sum(r.merged for r in results),
        sum(r.pending for r in results),
        sum(r.ignored for r in results),
        ids,
        sum(r.repeated for r in results),
    )
