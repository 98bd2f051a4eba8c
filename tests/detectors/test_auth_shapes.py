"""Failed logins in every shape reach the brute-force and spray detectors, counted once."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm.accounts.domains import DomainMap
from csm.config.mailrules import default_rules
from csm.detectors.mail import spray
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.pipeline import MailDetectors
from csm.incidents import classify
from csm.incidents.model import Kind
from tests.logtail import shapes

SHAPES = {
    "exim": shapes.exim_lines,
    "dovecot": shapes.dovecot_connection,
    "postfix": shapes.postfix_lines,
}


def detectors() -> MailDetectors:
    context = MailContext.build(default_rules(), DomainMap({"shop.example": "shopuser"}), [], [])
    return MailDetectors(context)


def feed(found: MailDetectors, family: str, lines: list[str]) -> list[str]:
    raw = [line.encode() + b"\n" for line in lines]
    read = found.exim_lines if family == "exim" else found.maillog_lines
    result = read(raw, 2026)
    return [f"{f.check} {f.remote_ip} {f.mailbox}" for f in result]


@settings(max_examples=60, deadline=None)
@given(st.data(), st.sampled_from(sorted(SHAPES)), shapes.addresses, st.integers(0, 3000))
def test_six_failures_in_three_minutes_in_any_shape_are_brute_force(
    data: st.DataObject, family: str, ip: str, offset: int
) -> None:
    lines = []
    for n in range(6):
        failure = shapes.Failure(shapes.START + offset + n * 30, ip, f"user{n % 3}@shop.example")
        drawn = data.draw(SHAPES[family](failure))
        lines += drawn if isinstance(drawn, list) else [drawn]
    found = detectors()
    checks = feed(found, family, lines)
    prefix = "smtp" if family == "exim" else "mail"
    assert f"{prefix}_bruteforce {ip} " in checks
    assert found.lines["parsed"] == len(lines)  # every line read, none skipped or dropped unseen
    assert found.read == len(lines)


def test_an_unreadable_exim_failure_is_counted_as_skipped_not_dropped() -> None:
    found = detectors()
    head = "2026-11-20 09:00:00 login authenticator failed for"
    refused = "535 Incorrect authentication data"
    feed(found, "exim", [f"{head} U=root: {refused}", f"{head} (x) [not-an-ip]: {refused}"])
    assert found.lines["skipped"] == 2 and found.read == 2


def test_server_trouble_and_cancelled_exchanges_are_no_guesses() -> None:
    found = detectors()
    lines = [
        f"2026-11-20 09:00:0{n} dovecot_login authenticator failed for (x) [192.0.2.9]:1: {reply}"
        for n, reply in enumerate(
            ["435 Unable to authenticate at present (set_id=a@b): connection refused"] * 3
            + ["501 Authentication cancelled"] * 3
        )
    ]
    assert feed(found, "exim", lines) == []
    assert found.lines["parsed"] == 6 and found.smtp.by_ip.count("192.0.2.9") == 0


def test_a_summariser_line_stands_for_its_count() -> None:
    found = detectors()
    line = (
        "2026-11-20 09:00:00 dovecot_login authenticator failed for (x) [192.0.2.9]:1:"
        " 535 Incorrect authentication data (set_id=a@shop.example): 5 Time(s)"
    )
    assert feed(found, "exim", [line]) == ["smtp_bruteforce 192.0.2.9 "]


def test_dovecot_counts_each_failure_once_from_its_auth_and_login_lines() -> None:
    found = detectors()
    auth = (
        "Nov 20 09:00:0{n} server1 dovecot: auth: passwd-file(a@shop.example,192.0.2.5,<s>):"
        " Password mismatch"
    )
    login = (
        "Nov 20 09:00:09 server1 dovecot: imap-login: Disconnected (auth failed, 3 attempts in 9"
        " secs): user=<a@shop.example>, method=PLAIN, rip=192.0.2.5, lip=192.0.2.1, TLS"
    )
    feed(found, "dovecot", [auth.format(n=n) for n in range(3)] + [login])
    assert found.imap.by_ip.count("192.0.2.5") == 3
    feed(found, "dovecot", [login.replace("09:00:09", "09:01:00")])  # no auth lines this time
    assert found.imap.by_ip.count("192.0.2.5") == 6


def test_one_attempt_logged_by_two_passdbs_counts_once() -> None:
    found = detectors()
    head = "Nov 20 09:00:01 server1 dovecot: auth"
    who = "(a@shop.example,192.0.2.5): unknown user"
    feed(found, "dovecot", [f"{head}: passwd-file{who}", f"{head}-worker(9): pam{who}"])
    assert found.imap.by_ip.count("192.0.2.5") == 1


def test_postfix_through_dovecot_sasl_counts_once() -> None:
    found = detectors()
    auth = "dovecot: auth: passwd-file(a@shop.example,192.0.2.6,<s>): Password mismatch"
    sasl = "warning: unknown[192.0.2.6]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
    lines = [
        f"Nov 20 09:00:01 server1 {auth}",
        f"Nov 20 09:00:03 server1 postfix/submission/smtpd[7]: {sasl}",
    ]
    feed(found, "dovecot", lines)
    assert found.imap.by_ip.count("192.0.2.6") == 1


def spray_lines(family: str, failures: int, ips: int, hours: float, seed: int = 7) -> list[str]:
    """``failures`` failed logins on one mailbox from ``ips`` rotating addresses over ``hours``."""
    rng = random.Random(seed)
    step = hours * 3600 / failures
    addresses = [f"198.{51 + n // 250}.{n % 250}.{rng.randint(1, 254)}" for n in range(ips)]
    lines = []
    for n in range(failures):
        at = shapes.START + int(n * step)
        failure = shapes.Failure(at, addresses[n % ips], "info@shop.example")
        if family == "exim":
            lines.append(
                f"{shapes.stamp(at)} dovecot_login authenticator failed for (x) [{failure.ip}]:"
                f"{40000 + n % 999}: 535 Incorrect authentication data (set_id={failure.login})"
            )
        else:
            lines.append(
                f"{shapes.syslog_stamp(at)} server1 dovecot: imap-login: Aborted login (auth"
                f" failed, 1 attempts in 2 secs): user=<{failure.login}>, method=PLAIN,"
                f" rip={failure.ip}, lip=192.0.2.1, TLS"
            )
    return lines


@pytest.mark.parametrize("family", ["exim", "dovecot"])
def test_a_low_and_slow_day_is_one_spray_finding_naming_the_mailbox(family: str) -> None:
    found = detectors()
    checks = feed(found, family, spray_lines(family, 5000, 600, 24))
    prefix = "smtp" if family == "exim" else "mail"
    sprays = [c for c in checks if c.startswith(f"{prefix}_slow_spray")]
    assert len(sprays) == 1 and sprays[0].endswith(" info@shop.example")
    assert not [c for c in checks if "bruteforce" in c]
    kept = found.smtp.slow if family == "exim" else found.imap.slow
    window = kept.mailboxes["info@shop.example"]  # bounded: counts per step, recent addresses
    assert len(window.starts) <= spray.STEPS + 1 and len(window.ips) <= kept.kept_ips


def test_a_slow_spray_is_a_mailbox_brute_force_incident() -> None:
    found = detectors()
    raw = [line.encode() for line in spray_lines("dovecot", 40, 12, 4)]
    [finding] = [f for f in found.maillog_lines(raw, 2026) if f.check == "mail_slow_spray"]
    assert (finding.account, finding.mailbox) == ("shopuser", "info@shop.example")
    assert classify.kind_of(finding) == Kind.MAILBOX_BRUTEFORCE


@pytest.mark.parametrize(
    ("failures", "ips", "found"), [(30, 10, 1), (29, 10, 0), (30, 9, 0), (60, 30, 1)]
)
def test_the_spray_threshold(failures: int, ips: int, found: int) -> None:
    rules = default_rules()
    assert (rules.spray_failures, rules.spray_ips) == (30, 10)
    lines = spray_lines("exim", failures, ips, 5)  # within the 6-hour window
    checks = feed(detectors(), "exim", lines)
    assert len([c for c in checks if c.startswith("smtp_slow_spray")]) == found


def test_a_spray_that_stops_and_starts_again_is_found_again() -> None:
    found = detectors()
    first = spray_lines("exim", 40, 12, 3)
    later = [
        line.replace("2026-11-20", "2026-11-21") for line in spray_lines("exim", 40, 12, 3, seed=8)
    ]
    checks = feed(found, "exim", first + later)
    assert len([c for c in checks if c.startswith("smtp_slow_spray")]) == 2


def session_lines(end: str, attempts: int = 2, start: int = 0) -> list[str]:
    auth = (
        "Nov 20 09:{m:02d}:{s:02d} server1 dovecot: auth: passwd-file(a@shop.example,192.0.2.7,"
        "<S1>): Password mismatch"
    )
    lines = [
        auth.format(m=(start + n * 10) // 60, s=(start + n * 10) % 60) for n in range(attempts)
    ]
    at = start + attempts * 10
    return [*lines, f"Nov 20 09:{at // 60:02d}:{at % 60:02d} server1 dovecot: imap-login: {end}"]


FIELDS = "user=<a@shop.example>, method=PLAIN, rip=192.0.2.7, lip=192.0.2.1, TLS, session=<S1>"


def test_a_password_guessed_within_one_session_is_found() -> None:
    found = detectors()
    checks = feed(found, "dovecot", session_lines(f"Login: {FIELDS}"))
    assert checks == ["mail_account_compromised 192.0.2.7 a@shop.example"]


def test_a_session_that_ends_without_failing_counts_nothing() -> None:
    found = detectors()
    feed(found, "dovecot", session_lines(f"Disconnected: Internal login failure: {FIELDS}"))
    assert found.imap.by_ip.count("192.0.2.7") == 0


def test_a_session_that_never_ends_is_counted_after_the_hour() -> None:
    found = detectors()
    later = (
        "Nov 20 10:30:00 server1 dovecot: imap-login: Disconnected (no auth attempts):"
        " rip=192.0.2.99, lip=192.0.2.1"
    )
    feed(found, "dovecot", [*session_lines("", attempts=3)[:-1], later])
    assert found.imap.by_ip.count("192.0.2.7") == 3
