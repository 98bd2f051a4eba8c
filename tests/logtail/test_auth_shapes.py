"""Every shape of an authentication failure gives the same failure as its canonical form: the
same time, client address and login (and, for Dovecot's connection lines, its attempts)."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from csm.logtail.formats import exim, eximauth, maillog
from csm.logtail.formats.events import FAILURE
from tests.logtail import shapes

EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "40")) * 5


def exim_failure(line: str) -> tuple[int, str, str]:
    parsed = exim.parse(line, 2026)
    assert parsed is not None, line
    failed = eximauth.auth_failure(parsed.rest)
    assert failed is not None, line
    assert failed.guess and failed.times == 1, line
    return parsed.time, failed.ip, failed.login


def canonical_exim(failure: shapes.Failure) -> str:
    return (
        f"{shapes.stamp(failure.at)} dovecot_login authenticator failed for H=(User)"
        f" [{failure.ip}]:2537: 535 Incorrect authentication data (set_id={failure.login})"
    )


@settings(max_examples=EXAMPLES)
@given(st.data(), shapes.failures)
def test_every_exim_shape_reads_as_the_canonical_line(
    data: st.DataObject, failure: shapes.Failure
) -> None:
    line = data.draw(shapes.exim_lines(failure))
    assert exim_failure(line) == exim_failure(canonical_exim(failure))
    assert exim_failure(line) == (failure.at, failure.ip, failure.login)


def canonical_dovecot(failure: shapes.Failure, attempts: int) -> str:
    return (
        f"{shapes.syslog_stamp(failure.at)} server1 dovecot: imap-login: Aborted login (auth"
        f" failed, {attempts} attempts in 2 secs): user=<{failure.login}>, method=PLAIN,"
        f" rip={failure.ip}, lip=192.0.2.1, TLS"
    )


def maillog_failure(line: str) -> tuple[int, str, str, int]:
    event = maillog.parse(line, 2026)
    assert event is not None, line
    assert event.result == FAILURE, line
    return event.time, event.ip, event.user, event.attempts


@settings(max_examples=EXAMPLES)
@given(st.data(), shapes.failures)
def test_every_dovecot_shape_reads_as_the_canonical_line(
    data: st.DataObject, failure: shapes.Failure
) -> None:
    line, attempts = data.draw(shapes.dovecot_lines(failure))
    expected = maillog_failure(canonical_dovecot(failure, attempts))
    assert maillog_failure(line) == expected
    assert expected == (failure.at, failure.ip, failure.login, attempts)


@settings(max_examples=EXAMPLES)
@given(st.data(), shapes.failures)
def test_every_dovecot_auth_process_shape_names_the_attempt(
    data: st.DataObject, failure: shapes.Failure
) -> None:
    line = data.draw(shapes.dovecot_auth_lines(failure))
    assert maillog_failure(line) == (failure.at, failure.ip, failure.login, 1)


@settings(max_examples=EXAMPLES)
@given(st.data(), shapes.failures)
def test_every_postfix_shape_reads_as_the_canonical_line(
    data: st.DataObject, failure: shapes.Failure
) -> None:
    line = data.draw(shapes.postfix_lines(failure))
    canonical = (
        f"{shapes.syslog_stamp(failure.at)} server1 postfix/smtpd[1]: warning: unknown"
        f"[{failure.ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
        + (f", sasl_username={failure.login}" if failure.login else "")
    )
    assert maillog_failure(line) == maillog_failure(canonical)
    assert maillog_failure(line) == (failure.at, failure.ip, failure.login, 1)
