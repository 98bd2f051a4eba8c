"""All mail detectors behind two calls: one Exim mainlog line, or one maillog line."""

from __future__ import annotations

import re
from collections import Counter

from csm.detectors.mail.auth import AuthFailures
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.delivery import Delivery
from csm.detectors.mail.local import LocalMail
from csm.detectors.mail.outbound import Outbound
from csm.incidents.model import Finding
from csm.logtail.formats import dovecot, exim
from csm.logtail.formats.stamps import MONTHS, iso_stamp

DELIVERED = ("=>", "->")
COMPLETED = (b" Completed\n", b" Completed")
PRUNE_EVERY = 100_000


class MailDetectors:
    def __init__(self, context: MailContext) -> None:
        self.context = context
        self.outbound = Outbound(context)
        self.local = LocalMail(context)
        self.smtp = AuthFailures(context, "smtp")
        self.imap = AuthFailures(context, "mail")
        self.delivery = Delivery(context)
        self.lines = Counter[str]()  # parsed, skipped, malformed
        self.read = 0
        self.findings = Counter[str]()  # per check

    def exim_line(self, raw: bytes, year: int) -> list[Finding]:
        """Substring tests first: only lines some detector reads are parsed; the rest are
        counted (and checked for the shape of a mainlog line, so junk is still counted)."""
        self.read += 1
        if raw.endswith(COMPLETED):  # a quarter of every mainlog: nothing to read
            return []
        message = MESSAGE_LINE.match(raw)
        if message is not None:
            if message.group(4) == b"<=":
                return self._arrival_line(raw, message)
            return self._delivery(raw, message)
        if not _relevant(raw) and not self._tracked_delivery(raw):
            if not _looks_like_exim(raw):
                self.lines["skipped"] += 1
            return []
        line = exim.parse(raw, year)
        if line is None:
            self.lines["skipped"] += 1
            return []
        self.lines["parsed"] += 1
        found = self._exim(line)
        if self.read % PRUNE_EVERY == 0:
            self._prune(line.time)
        if found:
            self.findings.update(f.check for f in found)
        return found

    def _tracked_delivery(self, raw: bytes) -> bool:
        """A delivery in another shape (``[pid]``, syslog-wrapped) of a followed message."""
        mark = raw.find(b" => ")
        if mark < 0:
            mark = raw.find(b" -> ")
        if mark < 0:
            return False
        msgid = raw[raw.rfind(b" ", 0, mark) + 1 : mark]
        return msgid.decode("ascii", "replace") in self.outbound.messages

    def _arrival_line(self, raw: bytes, message: re.Match[bytes]) -> list[Finding]:
        """The common ``<time> [pid] <id> <= …`` line, split by the one match.  Mail from
        outside (no ``A=``, no ``U=``, not a bounce) concerns no detector and is not read."""
        rest = raw[message.end() :]
        if b" A=" not in rest and b" U=" not in rest and not rest.startswith(b"<>"):
            return []
        try:
            at = iso_stamp(message.group(1))
        except ValueError:
            self.lines["skipped"] += 1
            return []
        self.lines["parsed"] += 1
        pid = int(message.group(2)) if message.group(2) else 0
        rest = rest.rstrip(b"\r\n")
        line = exim.EximLine(at, pid, message.group(3).decode("ascii"), "<=", rest)
        found = self._arrival(line)
        if self.read % PRUNE_EVERY == 0:
            self._prune(at)
        if found:
            self.findings.update(f.check for f in found)
        return found

    def _delivery(self, raw: bytes, message: re.Match[bytes]) -> list[Finding]:
        """The common ``<time> <id> => <recipient> …`` line, read without the general parser:
        only deliveries of authenticated submissions matter (the fan-out count)."""
        msgid = message.group(3).decode("ascii")
        if msgid not in self.outbound.messages:
            return []
        self.lines["parsed"] += 1
        end = raw.find(b" ", message.end())
        recipient = raw[message.end() : end if end > 0 else None].decode("utf-8", "replace")
        try:
            at = iso_stamp(message.group(1))
        except ValueError:
            return []
        found = self.outbound.delivery(at, msgid, recipient)
        if found:
            self.findings.update(f.check for f in found)
        return found

    def maillog_line(self, raw: bytes, year: int) -> list[Finding]:
        self.read += 1
        event = dovecot.parse(raw, year)
        if event is None:
            self.lines["skipped"] += 1
            return []
        self.lines["parsed"] += 1
        if event.result == "failure":
            found = self.imap.failure(event.time, event.ip, event.user)
        elif event.result == "success":
            found = self.imap.success(event.time, event.ip, event.user)
        else:
            found = []
        self.findings.update(f.check for f in found)
        return found

    def _exim(self, line: exim.EximLine) -> list[Finding]:
        flag, at = line.flag, line.time
        if flag == "<=":
            return self._arrival(line)
        if flag in DELIVERED:
            recipient = line.rest.partition(b" ")[0].decode("utf-8", "replace")
            return self.outbound.delivery(at, line.msgid, recipient)
        if flag == "==":
            return self.delivery.deferral(at, line.msgid, _text(line.rest))
        if flag == "**":
            return self.delivery.failure(at, line.msgid, _text(line.rest))
        return self._other(line)

    def _arrival(self, line: exim.EximLine) -> list[Finding]:
        mail = exim.arrival(line.rest)
        if mail is None:
            self.lines["malformed"] += 1
            return []
        self.delivery.arrival(line.msgid, mail.sender)
        found = self.local.arrival(line.time, line.pid, line.msgid, mail)
        if mail.auth_id:
            found += self.smtp.success(line.time, mail.ip, mail.auth_id)
            found += self.outbound.arrival(line.time, line.msgid, mail)
        return found

    def _other(self, line: exim.EximLine) -> list[Finding]:
        rest = line.rest
        if line.msgid:
            return self.delivery.frozen(line.time, line.msgid) if rest.startswith(b"Frozen") else []
        if b"authenticator failed for" in rest:
            failed = exim.auth_failure(rest)
            return self.smtp.failure(line.time, *failed) if failed else []
        if rest.startswith(b"cwd="):
            self.local.cwd(line.pid, rest[4:].partition(b" ")[0].decode("utf-8", "replace"))
        elif rest.startswith(b"DKIM: signing failed"):
            return self.delivery.dkim_failed(line.time, _text(rest))
        elif rest.startswith(b"** "):
            return self.delivery.failure(line.time, "", _text(rest))
        return []

    def _prune(self, now: int) -> None:
        for detector in (self.outbound, self.local, self.smtp, self.imap, self.delivery):
            for window in vars(detector).values():
                if hasattr(window, "prune"):
                    window.prune(now)


# "<time> [pid] <id> <=|=>|-> …": the bulk of every mainlog, recognised in one match.
MESSAGE_LINE = re.compile(
    rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?:\[(\d+)\] )?"
    rb"([0-9A-Za-z]{6}-(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|[0-9A-Za-z]{11}-[0-9A-Za-z]{4}))"
    rb" (<=|=>|->) "
)
RELEVANT = re.compile(
    rb" <= | \*\* |outgoing mail hold|authenticator failed|cwd=| Frozen|DKIM: signing failed"
)
_relevant = RELEVANT.search


def _looks_like_exim(raw: bytes) -> bool:
    """Exim's own timestamp, or a syslog header (whose program the parser checks later)."""
    own = len(raw) > 20 and raw[4] == 45 and raw[10] == 32 and raw[13] == 58  # "-", " ", ":"
    return own or raw[:3] in MONTHS


def _text(rest: bytes) -> str:
    return rest.decode("utf-8", "replace")
