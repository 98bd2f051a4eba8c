"""Lines the real Exim, Dovecot and Postfix wrote (``tests/samples/real``): every failure is read
with its address, and each failed attempt counts once however many lines name it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from csm.accounts.domains import DomainMap
from csm.config.mailrules import default_rules
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.pipeline import MailDetectors
from csm.detectors.mail.repeats import Repeats
from csm.logtail.formats import exim, eximauth, maillog, text
from csm.logtail.formats.events import FAILURE

REAL = Path(__file__).resolve().parent.parent / "samples" / "real"


def lines(name: str) -> list[str]:
    return [text.line(raw) for raw in (REAL / name).read_bytes().splitlines()]


@pytest.mark.parametrize("name", ["exim_mainlog", "exim_syslog.log"])
def test_every_exim_failure_is_read_and_counted_once(name: str) -> None:
    copies, refused, other, counted = exim.SyslogCopies(), Counter[str](), 0, Counter[str]()
    for line in lines(name):
        parsed = exim.parse(line, 2026)
        if parsed is None or "authenticator failed" not in parsed.rest:
            continue
        failed = eximauth.auth_failure(parsed.rest)
        assert failed is not None and failed.ip, line
        assert failed.guess == (": 535 " in line), line
        if copies.copy(line, parsed):
            continue
        if failed.guess:
            refused[failed.ip] += 1
        else:
            other += 1
        counted[failed.ip] += 1
    written = sum(": 535 " in line for line in lines(name))
    duplicated = 2 if name == "exim_syslog.log" else 1  # syslog_duplication
    assert sum(refused.values()) * duplicated == written
    assert set(counted) >= {"127.0.0.1", "::1"}
    assert other or duplicated == 2  # the mainlog has its cancelled and garbled exchanges


@pytest.mark.parametrize("name", ["exim_mainlog", "exim_syslog.log"])
def test_the_detectors_read_every_exim_failure(name: str) -> None:
    detectors = MailDetectors(MailContext.build(default_rules(), DomainMap(), [], []))
    raw = (REAL / name).read_bytes().splitlines()
    found = detectors.exim_lines(raw, 2026)
    failures = sum(b"authenticator failed" in line for line in raw)
    assert detectors.lines["parsed"] >= failures and not detectors.lines["skipped"]
    assert {f.remote_ip for f in found if f.check == "smtp_bruteforce"} >= {"127.0.0.1"}


# Dovecot alone: the file less its two runs as Postfix's SASL server (whose ends Postfix logs).
DOVECOT_ALONE = [*range(0, 106), *range(145, 251)]


@pytest.mark.parametrize(
    ("name", "numbers"),
    [("dovecot_maillog", DOVECOT_ALONE), ("dovecot_ownfile.log", None), ("postfix_maillog", None)],
)
def test_each_failed_attempt_counts_once(name: str, numbers: list[int] | None) -> None:
    """Dovecot's auth process names each attempt, its login process (or Postfix) names them
    again at the connection's end.  Counted, they are the attempts the connections ended with
    (a passdb's ``unknown user`` before another passdb let the user in is none); for Postfix,
    whose SASL server here is Dovecot with one passdb, the attempts Dovecot refused."""
    repeats, counted, attempts = Repeats(), Counter[str](), Counter[str]()
    read = lines(name)
    for line in [read[n] for n in numbers] if numbers else read:
        event = maillog.parse(line, 2026)
        if event is None:
            continue
        for ip, _, times in repeats.count(event):
            counted[ip] += times
        if event.result != FAILURE:
            continue
        if name == "postfix_maillog" and event.service == "auth":
            attempts[event.ip] += 1
        elif name != "postfix_maillog" and event.summary:
            attempts[event.ip] += event.attempts
    assert counted == attempts
    assert sum(counted.values()) >= 20 and {"127.0.0.1", "::1"} <= set(counted)


def test_the_dovecot_lines_name_what_was_tried() -> None:
    events = [e for e in map(lambda line: maillog.parse(line, 2026), lines("dovecot_maillog")) if e]
    results = Counter(e.result for e in events)
    assert results["refused"] >= 4  # plaintext refused: no guess
    assert {"alice", "nosuchuser", "bob@example.test"} <= {e.user for e in events}
    assert {"imap", "pop3", "managesieve", "submission", "auth"} <= {e.service for e in events}
