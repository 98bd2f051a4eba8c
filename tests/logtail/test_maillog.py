from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm.logtail.formats import maillog, text


@pytest.mark.parametrize(
    ("line", "service", "result", "user", "ip"),
    [
        ("Apr 14 12:00:05 host dovecot: imap-login: Logged in: user=<alice@example.com>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, TLS", "imap", "success", "alice@example.com", "203.0.113.5"),
        ("Apr  4 10:15:23 server dovecot: imap-login: Login: user=<john@example.com>, method=PLAIN, rip=203.0.113.42, lip=10.0.0.1, mpid=12345, TLS, session=<abc123>", "imap", "success", "john@example.com", "203.0.113.42"),
        ("Apr 14 12:00:06 testhost dovecot[100]: pop3-login: Logged in: user=<bob@example.com>, method=PLAIN, rip=203.0.113.6, lip=192.0.2.1, mpid=12346, TLS, session=<def>", "pop3", "success", "bob@example.com", "203.0.113.6"),
        ("Apr 14 12:00:00 host dovecot: imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<alice@x.ro>, method=PLAIN, rip=192.0.2.4, lip=192.0.2.1, TLS", "imap", "failure", "alice@x.ro", "192.0.2.4"),
        ("Apr 14 12:00:08 testhost dovecot[100]: imap-login: Login aborted: Logged out (auth failed, 1 attempts in 3 secs) (auth_failed): user=<dave@example.com>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.1, TLS, session=<jkl>", "imap", "failure", "dave@example.com", "203.0.113.7"),
        ("2026-04-14T12:00:05.000000+00:00 host dovecot[1]: imap-login: Logged in: user=<a@b.test>, method=PLAIN, rip=::ffff:203.0.113.5, lip=192.0.2.1", "imap", "success", "a@b.test", "203.0.113.5"),
        ("Jun 19 02:00:00 host postfix/smtpd[222]: warning: unknown[203.0.113.8]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_method=LOGIN, sasl_username=alice@example.com", "smtp", "failure", "alice@example.com", "203.0.113.8"),
    ],
)  # fmt: skip
def test_logins(line: str, service: str, result: str, user: str, ip: str) -> None:
    event = maillog.parse(line, 2026)
    assert event is not None
    assert (event.service, event.result, event.user, event.ip) == (service, result, user, ip)


def test_backend_trouble() -> None:
    line = "Jun 19 02:00:00 host dovecot[123]: auth-worker(office@x.ro,203.0.113.4)<1><a>: conn unix:x: socket error: Failed to connect to /usr/local/cpanel/var/cpdoveauthd.sock: connection refused"
    event = maillog.parse(line, 2026)
    assert event is not None and event.result == "backend_error"


@pytest.mark.parametrize(
    "line",
    ["Apr 14 12:00:00 host dovecot: imap-login: Disconnected (no auth attempts)",
     "Apr 14 12:00:00 host dovecot: imap-login: Logged in: user=<a@b>, rip=not-an-ip",
     "Apr 14 12:00:00 host sshd[1]: Failed password for root", "", "junk"],
)  # fmt: skip
def test_other_lines_are_none(line: str) -> None:
    assert maillog.parse(line, 2026) is None


@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    maillog.parse(text.line(data), 2026)
    maillog.parse(text.line(b"Apr 14 12:00:00 host dovecot: imap-login: " + data), 2026)


@pytest.mark.parametrize(
    ("line", "ip", "user"),
    [
        ("Nov 20 09:00:00 h dovecot: imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=6.6.6.6, lip=1>, method=PLAIN, rip=192.0.2.4, lip=192.0.2.1, TLS", "192.0.2.4", "x>, method=PLAIN, rip=6.6.6.6, lip=1"),
        ("Nov 20 09:00:00 h dovecot: auth: passwd-file(a,6.6.6.6): Password mismatch,192.0.2.5,<s>): Password mismatch", "192.0.2.5", "a,6.6.6.6): Password mismatch"),
        ("Nov 20 09:00:00 h postfix/smtpd[1]: warning: unknown[192.0.2.6]: SASL LOGIN authentication failed: x, sasl_username=u [6.6.6.6]", "192.0.2.6", "u [6.6.6.6]"),
    ],
)  # fmt: skip
def test_the_clients_own_text_cannot_move_the_address(line: str, ip: str, user: str) -> None:
    event = maillog.parse(line, 2026)
    assert event is not None and (event.ip, event.user) == (ip, user)


@pytest.mark.parametrize(
    "line",
    [
        "Nov 20 09:00:00 h dovecot: imap-login: Disconnected (tried to use disabled plaintext auth): user=<>, rip=192.0.2.4, lip=192.0.2.1",
        "Nov 20 09:00:00 h dovecot: imap-login: Login aborted: Connection closed (tried to use unsupported auth mechanism) (no_auth_attempts): rip=192.0.2.4, lip=192.0.2.1",
    ],
)  # fmt: skip
def test_refusals_before_any_password_are_no_failures(line: str) -> None:
    event = maillog.parse(line, 2026)
    assert event is not None and event.result == "refused" and event.ip == "192.0.2.4"


@given(st.binary(max_size=200).map(text.line))  # lines are read as Latin-1
def test_hostile_text_after_every_prefix_never_raises(tail: str) -> None:
    for prefix in (
        "Nov 20 09:00:00 h dovecot: imap-login: Aborted login (auth failed, ",
        "Nov 20 09:00:00 h dovecot: auth: passwd-file(",
        "Nov 20 09:00:00 h postfix/smtpd[1]: warning: unknown[",
        "<", "<22>1 2026-11-20T09:00:00Z h dovecot 1 - [", "h Nov 20 09:00:00 ",
    ):  # fmt: skip
        event = maillog.parse(prefix + tail, 2026)
        assert event is None or event.attempts >= 1


@pytest.mark.parametrize(
    ("line", "result", "user", "ip", "attempts"),
    [
        ("Nov 20 09:00:00 h dovecot: imap-login: Disconnected (proxy dest auth failed): user=<a@b.test>, method=PLAIN, rip=192.0.2.8, lip=192.0.2.1, session=<x>", "failure", "a@b.test", "192.0.2.8", 1),
        ("Nov 20 09:00:00 h dovecot: pop3-login: Remote closed connection (auth failed, 2 attempts): user=<a>, method=PLAIN, rip=192.0.2.8, lip=192.0.2.1", "failure", "a", "192.0.2.8", 2),
        ("Nov 20 09:00:00 h dovecot: auth: passwd-file(bob,192.0.2.9): Unknown user", "failure", "bob", "192.0.2.9", 1),
        ("Nov 20 09:00:00 h dovecot: auth: passwd-file(bob,192.0.2.9,<s>): unknown user (SHA1 of given password: 01ab)", "failure", "bob", "192.0.2.9", 1),
        ("Nov 20 09:00:00 h dovecot: auth-worker(7): Error: ldap(bob@x,192.0.2.9): invalid credentials", "failure", "bob@x", "192.0.2.9", 1),
        ("Nov 20 09:00:00 h postfix/smtpd[1]: warning: unknown[192.0.2.10]: SASL NTLM authentication failed: Invalid authentication mechanism", "refused", "", "192.0.2.10", 1),
    ],
)  # fmt: skip
def test_more_field_shapes(line: str, result: str, user: str, ip: str, attempts: int) -> None:
    event = maillog.parse(line, 2026)
    assert event is not None
    assert (event.result, event.user, event.ip, event.attempts) == (result, user, ip, attempts)
