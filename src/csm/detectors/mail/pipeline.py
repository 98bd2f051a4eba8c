"""All mail detectors behind three calls: a batch of Exim mainlog lines, of maillog lines, or
of cPanel access_log lines (logins to cPanel, WHM and Webmail).

Most of a mainlog is lines no detector reads (``Completed``, deliveries of mail from outside,
connections).  Exim writes its own lines as ``<time> <id> <flag> …``, so the flag sits at a
fixed offset for both id lengths: the fast path looks there and reads a line only when some
detector wants it.  Every other shape (``[pid]``, ``+zone``, syslog-wrapped, lines without a
message id) goes through the general parser, which is also the reference the fast path is
tested against (``fast=False``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Final

from csm.detectors.mail.auth import AuthFailures
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.delivery import Delivery
from csm.detectors.mail.local import LocalMail
from csm.detectors.mail.outbound import Outbound, Sender
from csm.detectors.mail.repeats import Repeats
from csm.incidents.model import Finding
from csm.logtail.formats import cpanel, events, exim, eximauth, maillog, syslog, text
from csm.logtail.formats.stamps import MONTHS, iso_stamp

DELIVERED: Final = ("=>", "->")
PRUNE_EVERY: Final = 100_000

# Lines are dispatched on raw bytes; only lines a detector reads are decoded (formats.text).
# The four bytes after a 16- or 23-character message id, and what they make of the line.
ARRIVAL: Final = 0
DELIVERY: Final = 1
COMPLETED: Final = 2
FAILURE: Final = 3
DEFERRAL: Final = 4
DASH: Final = 45
SPACE: Final = 32  # the flag's bytes are compared as integers: no slice is made
# where the flag starts: 20 (time and space) + the id's length
SHORT_ID: Final = 36
LONG_ID: Final = 43
HOLD: Final = b"outgoing mail hold"


class MailDetectors:
    def __init__(self, context: MailContext, *, fast: bool = True) -> None:
        self.context = context
        self.fast = fast
        self.outbound = Outbound(context)
        self.local = LocalMail(context)
        self.smtp = AuthFailures(context, "smtp")
        self.imap = AuthFailures(context, "mail")
        self.panel = AuthFailures(context, "cpanel")
        self.repeats = Repeats()
        self.copies = exim.SyslogCopies()
        self.delivery = Delivery(context)
        self.read = 0
        self.parsed = 0  # lines some detector read
        self.skipped = 0  # lines that are not mail log lines (junk, other programs)
        self.malformed = 0  # arrivals whose fields could not be read
        self.findings = Counter[str]()  # per check
        self.now = 0  # the latest time read
        self._pruned = 0
        self._stamp, self._at = "", 0  # the last timestamp read, and its time

    @property
    def lines(self) -> Counter[str]:
        """The lines parsed, skipped and malformed so far."""
        counts = {"parsed": self.parsed, "skipped": self.skipped, "malformed": self.malformed}
        return Counter({k: v for k, v in counts.items() if v})

    def exim_line(self, raw: bytes, year: int) -> list[Finding]:
        return self.exim_lines([raw], year)

    def maillog_line(self, raw: bytes, year: int) -> list[Finding]:
        return self.maillog_lines((raw,), year)

    def exim_lines(self, lines: list[bytes], year: int, read: int = -1) -> list[Finding]:
        """The findings of a batch of mainlog lines, in order.  ``read``: how many lines the
        batch stood for, when :func:`wanted` sifted it (the lines it left out change nothing
        but this count)."""
        found: list[Finding] = []
        fast = self.fast
        for raw in lines:
            if fast:
                step, end = _step(raw)
                if step < 0:
                    if _ignorable(raw):
                        continue
                elif self._fast(raw, step, end, found):
                    continue
            found += self._general(raw, year)
        self.read += len(lines) if read < 0 else read
        self._after_batch(found)
        return found

    def maillog_lines(self, lines: Iterable[bytes], year: int) -> list[Finding]:
        """The findings of a batch of maillog lines: Dovecot's and Postfix's, and Exim's where
        Exim logs to syslog too (one ``mail.log`` for every mail program)."""
        found: list[Finding] = []
        for raw in lines:
            self.read += 1
            line = text.line(raw)
            wrapped = syslog.parse(line.rstrip("\r\n"), year)
            if wrapped is not None and wrapped.program.startswith("exim"):
                found += self._general(raw, year)
                continue
            event = maillog.event(wrapped) if wrapped is not None else None
            if event is None:
                self.skipped += 1
                continue
            self.parsed += 1
            self.now = max(self.now, event.time)
            for ip, user, times in self.repeats.count(event):
                found += self.imap.failure(event.time, ip, user, times)
            if event.result == events.SUCCESS:
                found += self.imap.success(event.time, event.ip, event.user)
        self._after_batch(found)
        return found

    def cpanel_lines(self, lines: Iterable[bytes]) -> list[Finding]:
        """The findings of a batch of cPanel access_log lines: failed logins (401) per
        address, and a login accepted after failures from the same address."""
        found: list[Finding] = []
        for raw in lines:
            self.read += 1
            request = cpanel.parse(text.line(raw))
            if request is None:
                self.skipped += 1
                continue
            self.now = max(self.now, request.time)
            if request.failed:
                self.parsed += 1
                found += self.panel.failure(request.time, request.ip, request.user)
            elif request.logged_in:
                self.parsed += 1
                found += self.panel.success(request.time, request.ip, request.user)
        self._after_batch(found)
        return found

    def _fast(self, raw: bytes, step: int, end: int, found: list[Finding]) -> bool:
        """Handle a line of Exim's own ``<time> <id> <flag>`` shape; False when it is not one
        after all (the general parser then reads it)."""
        if step == DELIVERY:
            msgid = raw[20:end].decode("latin-1")
            sender = self.outbound.messages.get(msgid)
            if sender is None:
                # not a submission we follow; or, with a space, not this shape at all
                return " " not in msgid
            return self._delivery(raw, end, sender, found)
        if step == ARRIVAL:
            return self._arrival_line(raw, end, found)
        return _passed_over(raw, step, end)

    def _arrival_line(self, raw: bytes, end: int, found: list[Finding]) -> bool:
        line = text.line(raw)
        rest = line[end + 4 :]
        if not _concerns_us(rest):
            return True  # in whatever shape, with no A=, U= or <> after "<=" it is not ours
        at = self._time(line[:19]) if _own_shape(raw, end) else -1
        if at < 0:
            return False
        self.parsed += 1
        self.now = at
        found += self._arrival(at, 0, line[20:end], rest.rstrip("\r\n"))
        return True

    def _delivery(self, raw: bytes, end: int, sender: Sender, found: list[Finding]) -> bool:
        """A delivery of a followed message: its recipient counts for fan-out."""
        line = text.line(raw)
        at = self._time(line[:19])
        if at < 0:
            return False
        self.parsed += 1
        self.now = at
        stop = line.find(" ", end + 4)
        recipient = line[end + 4 : stop if stop >= 0 else len(line)].rstrip("\r\n")
        found += self.outbound.delivered(at, sender, text.field(recipient))
        return True

    def _time(self, stamp: str) -> int:
        """Exim's timestamp in epoch seconds (-1 when it is not one); consecutive lines mostly
        share their second, so the last one is remembered."""
        if stamp == self._stamp:
            return self._at
        try:
            at = iso_stamp(stamp)
        except ValueError:
            return -1
        self._stamp, self._at = stamp, at
        return at

    def _general(self, raw: bytes, year: int) -> list[Finding]:
        text_line = text.line(raw)
        if not _relevant(text_line) and not self._tracked_delivery(text_line):
            if not _looks_like_exim(text_line):
                self.skipped += 1
            return []
        line = exim.parse(text_line, year)
        if line is None:
            self.skipped += 1
            return []
        self.parsed += 1
        self.now = max(self.now, line.time)
        if self.copies.copy(text_line, line):
            return []  # syslog's second copy of a line Exim wrote for two of its logs
        return self._exim(line)

    def _tracked_delivery(self, line: str) -> bool:
        """A delivery in another shape (``[pid]``, syslog-wrapped) of a followed message."""
        mark = line.find(" => ")
        if mark < 0:
            mark = line.find(" -> ")
        if mark < 0:
            return False
        return self.outbound.messages.get(line[line.rfind(" ", 0, mark) + 1 : mark]) is not None

    def _exim(self, line: exim.EximLine) -> list[Finding]:
        flag, at = line.flag, line.time
        if flag == "<=":
            if not _concerns_us(line.rest):
                return []
            return self._arrival(at, line.pid, line.msgid, line.rest)
        if flag in DELIVERED:
            recipient = text.field(line.rest.partition(" ")[0])
            return self.outbound.delivery(at, line.msgid, recipient)
        if flag == "==":
            return self.delivery.deferral(at, line.msgid, text.field(line.rest))
        if flag == "**":
            return self.delivery.failure(at, line.msgid, text.field(line.rest))
        return self._other(line)

    def _arrival(self, at: int, pid: int, msgid: str, rest: str) -> list[Finding]:
        mail = exim.arrival(rest)
        if mail is None:
            self.malformed += 1
            return []
        self.delivery.arrival(msgid, mail.sender)
        found = self.local.arrival(at, pid, msgid, mail) if mail.user else []
        if mail.auth_id:
            found += self.smtp.success(at, mail.ip, mail.auth_id)
            found += self.outbound.arrival(at, msgid, mail)
        return found

    def _other(self, line: exim.EximLine) -> list[Finding]:
        rest = line.rest
        if line.msgid:
            return self.delivery.frozen(line.time, line.msgid) if rest.startswith("Frozen") else []
        if "authenticator failed for" in rest:
            return self._auth_failure(line.time, rest)
        if rest.startswith("cwd="):
            self.local.cwd(line.pid, text.field(rest[4:].partition(" ")[0]))
        elif rest.startswith("DKIM: signing failed"):
            return self.delivery.dkim_failed(line.time, text.field(rest))
        elif rest.startswith("** "):
            return self.delivery.failure(line.time, "", text.field(rest))
        return []

    def _auth_failure(self, at: int, rest: str) -> list[Finding]:
        """Exim's ``authenticator failed`` line in any shape; one whose client cannot be read
        is counted as skipped, not parsed (never dropped unseen)."""
        failed = eximauth.auth_failure(rest)
        if failed is None:
            self.parsed -= 1
            self.skipped += 1
            return []
        if not failed.guess:  # the server could not check, or nothing was tried
            return []
        return self.smtp.failure(at, failed.ip, failed.login, failed.times)

    def _after_batch(self, found: list[Finding]) -> None:
        if found:
            self.findings.update(f.check for f in found)
        if self.read - self._pruned >= PRUNE_EVERY:
            self._pruned = self.read
            for detector in (
                self.outbound,
                self.local,
                self.smtp,
                self.imap,
                self.panel,
                self.delivery,
            ):
                detector.prune(self.now)


# What the lines some detector reads hold (plain substring tests beat one regex here).
RELEVANT: Final = (
    " <= ",
    " ** ",
    "authenticator failed",
    "cwd=",
    " Frozen",
    "outgoing mail hold",
    "DKIM: signing failed",
)


def _relevant(line: str) -> bool:
    return any(needle in line for needle in RELEVANT)


def wanted(lines: list[bytes]) -> list[bytes]:
    """The lines of a mainlog batch some detector may read: what the fast path passes over on
    sight, whatever the detectors hold, is left out.  A helper process sifts big logs with
    this, so the detectors see only what matters (``exim_lines(…, read=len(lines))``)."""
    return [raw for raw in lines if not _needless(raw)]


def _needless(raw: bytes) -> bool:
    step, end = _step(raw)
    if step < 0:
        return _ignorable(raw)
    if step == ARRIVAL:
        return not _concerns_us(text.line(raw)[end + 4 :])
    if step == DELIVERY:
        return False  # whether its message is followed is the detectors' to say
    return _passed_over(raw, step, end)


def _step(raw: bytes) -> tuple[int, int]:
    """What the flag after a 16- or 23-character message id makes of the line, and where the
    flag starts (-1: no flag known there, or the line does not open with Exim's timestamp: a
    syslog header of the right length can put a flag's bytes at the same offset)."""
    if len(raw) < SHORT_ID or raw[4] != DASH or raw[10] != SPACE:
        return -1, LONG_ID
    step = _flag(raw, SHORT_ID)
    if step >= 0:
        return step, SHORT_ID
    return _flag(raw, LONG_ID), LONG_ID


def _passed_over(raw: bytes, step: int, end: int) -> bool:
    """A ``Completed`` line, or a deferral that is no hold: no detector reads it.  Failures
    (bounce storms, rejections) and holds are read by the general parser."""
    if step == COMPLETED:
        return raw[end : end + 10] == b" Completed"
    return step == DEFERRAL and raw.find(HOLD) < 0


def _flag(raw: bytes, at: int) -> int:
    """What the four bytes at ``at`` make of the line (-1: nothing known), read byte by byte:
    no slice is made for the million lines that only need this look."""
    if len(raw) < at + 4 or raw[at] != SPACE:
        return -1
    first, second, third = raw[at + 1], raw[at + 2], raw[at + 3]
    if third != SPACE:
        return COMPLETED if first == 67 and second == 111 and third == 109 else -1  # "Com"
    if second == 61:  # "="
        return ARRIVAL if first == 60 else DEFERRAL if first == 61 else -1  # "<=", "=="
    if second == 62:  # ">"
        return DELIVERY if first in (61, 45) else -1  # "=>", "->"
    return FAILURE if first == 42 and second == 42 else -1  # "**"


def _ignorable(raw: bytes) -> bool:
    """A line of Exim's own shape (no ``[pid]``) that no detector reads, known without the
    general parser: a message line other than ``Frozen``, or a line about no message other
    than ``cwd=``, ``DKIM: signing failed``, ``** …`` and ``<driver> authenticator failed for``
    (in every shape: with or without ``H=``).  Only a line that opens with Exim's timestamp is
    one: a syslog header can put a space at the same offset (``<22>Nov 20 09:00:00 host``)."""
    if raw[19:20] != b" " or raw[20:21] in (b"[", b"+", b"-", b" "):  # [pid], zone, odd spacing
        return False
    if raw[4:5] != b"-" or raw[10:11] != b" " or raw[13:14] != b":":
        return False
    if raw[26:27] == b"-" and (raw[36:37] == b" " or raw[43:44] == b" "):
        return raw[37:43] != b"Frozen" and raw[44:50] != b"Frozen"
    return _NO_MESSAGE_READ.match(raw, 20) is None


_NO_MESSAGE_READ: Final = re.compile(
    rb"cwd=|DKIM: signing failed|\*\* |[^ ]+ authenticator failed for "
)


def _concerns_us(rest: str) -> bool:
    """Whether an arrival may be ours: authenticated (``A=``), local (``U=``) or a bounce.
    Mail from outside concerns no detector and is not read."""
    return " A=" in rest or " U=" in rest or rest.startswith("<>")


def _own_shape(raw: bytes, end: int) -> bool:
    """Whether the line is ``<time> <id> …``: a message id right after the timestamp (a HELO
    name that happens to reach the flag's offset is not one)."""
    return raw[19] == SPACE and exim.message_id_at(raw, 20, end)


def _looks_like_exim(line: str) -> bool:
    """Exim's own timestamp, or a syslog header (traditional, RFC 3339, ``<PRI>``), whose
    program the parser checks later."""
    own = len(line) > 20 and line[4] == "-" and line[10] == " " and line[13] == ":"
    rfc3339 = line[4:5] == "-" and line[10:11] == "T"
    return own or rfc3339 or line[:3] in MONTHS or line[:1] == "<"
