from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm.logtail.formats import dovecot, text


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
    event = dovecot.parse(line, 2026)
    assert event is not None
    assert (event.service, event.result, event.user, event.ip) == (service, result, user, ip)


def test_backend_trouble() -> None:
    line = "Jun 19 02:00:00 host dovecot[123]: auth-worker(office@x.ro,203.0.113.4)<1><a>: conn unix:x: socket error: Failed to connect to /usr/local/cpanel/var/cpdoveauthd.sock: connection refused"
    event = dovecot.parse(line, 2026)
    assert event is not None and event.result == "backend_error"


@pytest.mark.parametrize(
    "line",
    ["Apr 14 12:00:00 host dovecot: imap-login: Disconnected (no auth attempts)",
     "Apr 14 12:00:00 host dovecot: imap-login: Logged in: user=<a@b>, rip=not-an-ip",
     "Apr 14 12:00:00 host sshd[1]: Failed password for root", "", "junk"],
)  # fmt: skip
def test_other_lines_are_none(line: str) -> None:
    assert dovecot.parse(line, 2026) is None


@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    dovecot.parse(text.line(data), 2026)
    dovecot.parse(text.line(b"Apr 14 12:00:00 host dovecot: imap-login: " + data), 2026)
