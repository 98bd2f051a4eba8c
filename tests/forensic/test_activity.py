# ruff: noqa: E501 - real log lines are long (as in tests/logtail/)
"""An account's mail hour by hour, from real-shaped Exim and Dovecot lines: what counts as sent,
as a failed login and as a new network, and only for the account's own domains."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm.forensic.activity import Activity, activity

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
DOMAINS = frozenset({"shop.example", "blog.shop.example"})
ACCOUNT = "shopuser"

MAINLOG = [
    # two authenticated submissions from one /24, then one from another
    '2026-11-20 09:00:00 1xU001-00000000001-01AB <= info@shop.example H=(198-51-100-84) [198.51.100.84]:63143 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_login:info@shop.example S=2135 id=1xU001-00000000001-01AB@shop.example T="Your parcel"',
    '2026-11-20 09:10:00 1xU002-00000000002-02AB <= info@shop.example H=(198-51-100-99) [198.51.100.99]:43683 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_login:info@shop.example S=1295 id=1xU002-00000000002-02AB@shop.example T="Your parcel"',
    '2026-11-20 10:05:00 1xU003-00000000003-03AB <= "odd sender"@elsewhere.example H=(x) [203.0.113.7]:43683 P=esmtpsa A=dovecot_plain:news@blog.shop.example S=900 T="Hi"',
    # a script of the account's (U=), without a client
    '2026-11-20 11:00:00 [3000] 1xU101-000101-21 <= shopuser@server1.example U=shopuser P=local S=1500 T="Verify your account"',
    # another account's submission, and mail *to* the account's domain from outside
    "2026-11-20 09:20:00 1xU004-00000000004-04AB <= bob@other.example H=(pc) [192.0.2.77]:5000 P=esmtpsa A=dovecot_login:bob@other.example S=100",
    "2026-11-20 09:30:00 1xU005-00000000005-05AB <= news@shop.example H=mx.example.net [192.0.2.50]:25 P=esmtps S=100",
    "2026-11-20 09:31:00 1xU006-00000000006-06AB <= other@server1.example U=otheruser P=local S=100",
    # refused SMTP AUTH: the account's mailbox, another domain's, a server that could not check
    "2026-11-20 09:00:00 dovecot_login authenticator failed for H=(User) [198.18.0.20]:40000: 535 Incorrect authentication data (set_id=info@shop.example)",
    "2026-11-20 09:00:05 dovecot_login authenticator failed for H=(User) [198.18.0.20]:40000: 535 Incorrect authentication data (set_id=info@other.example)",
    "2026-11-20 09:00:06 dovecot_login authenticator failed for H=(User) [198.18.0.20]:40000: 435 Unable to authenticate at present (set_id=info@shop.example): lookup failed",
    # deliveries and the like are not counted; neither is anything before the window
    '2026-11-20 09:00:01 1xU001-00000000001-01AB => v0@example.com R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.com [192.0.2.9] C="250 OK"',
    "2026-11-20 09:00:01 1xU001-00000000001-01AB Completed",
    "2026-11-18 12:59:59 1xU007-00000000007-07AB <= info@shop.example H=(old) [198.51.100.5]:1 P=esmtpsa A=dovecot_login:info@shop.example S=1",
    "garbage \x00\xff line",
]

MAILLOG = [
    "Nov 20 10:00:00 server1 dovecot[77]: imap-login: Aborted login (auth failed, 1 attempts): user=<info@shop.example>, method=PLAIN, rip=198.51.100.1, lip=192.0.2.1",
    # auth_verbose: the auth process's line and the connection's end name the same attempts
    "Nov 20 10:30:01 server1 dovecot: auth: passwd-file(anna@shop.example,198.18.5.5,<UmjIAbVhvId/AAAB>): Password mismatch",
    "Nov 20 10:30:07 server1 dovecot: auth: passwd-file(anna@shop.example,198.18.5.5,<UmjIAbVhvId/AAAB>): Password mismatch",
    "Nov 20 10:30:13 server1 dovecot: auth: passwd-file(anna@shop.example,198.18.5.5,<UmjIAbVhvId/AAAB>): Password mismatch",
    "Nov 20 10:30:15 server1 dovecot: imap-login: Disconnected: Connection closed (auth failed, 3 attempts in 18 secs): user=<anna@shop.example>, method=PLAIN, rip=198.18.5.5, lip=192.0.2.1, secured, session=<UmjIAbVhvId/AAAB>",
    "Nov 20 10:40:00 server1 dovecot[77]: pop3-login: Aborted login (auth failed, 2 attempts): user=<info@other.example>, method=PLAIN, rip=198.51.100.1, lip=192.0.2.1",
    # a login from a network already seen at 09:00, then from a new one (IPv6 /48)
    "Nov 20 11:00:20 server1 dovecot[77]: imap-login: Login: user=<anna@shop.example>, method=PLAIN, rip=198.51.100.14, lip=192.0.2.1, mpid=900, TLS, session=<Pq0>",
    "Nov 20 11:05:00 server1 dovecot[77]: imap-login: Login: user=<anna@shop.example>, method=PLAIN, rip=2001:db8:1:2::5, lip=192.0.2.1, mpid=901, TLS, session=<Pq1>",
    "Nov 20 11:06:00 server1 dovecot[77]: imap-login: Login: user=<anna@shop.example>, method=PLAIN, rip=2001:db8:1:ffff::9, lip=192.0.2.1, mpid=902, TLS, session=<Pq2>",
    "Nov 20 11:07:00 server1 dovecot[77]: imap-login: Login: user=<bob@other.example>, method=PLAIN, rip=192.0.2.200, lip=192.0.2.1, mpid=903, TLS, session=<Pq3>",
]  # fmt: skip


def write(path: Path, lines: list[str]) -> Path:
    path.write_bytes(b"".join(line.encode("latin-1") + b"\n" for line in lines))
    return path


def read(
    tmp_path: Path,
    mainlog: list[str],
    maillog: list[str],
    hours: int = 48,
    max_bytes: int = 1 << 20,
) -> Activity:
    main = write(tmp_path / "exim_mainlog", mainlog)
    mail = write(tmp_path / "maillog", maillog)
    return activity(main, mail, DOMAINS, NOW, hours, max_bytes, account=ACCOUNT)


def counts(found: Activity) -> dict[int, tuple[int, int, int]]:
    return {
        h.start.hour: (h.sent, h.failures, h.new_networks)
        for h in found.hours
        if h.sent or h.failures or h.new_networks
    }


def test_counts_per_hour(tmp_path: Path) -> None:
    found = read(tmp_path, MAINLOG, MAILLOG)
    assert counts(found) == {9: (2, 1, 1), 10: (1, 4, 1), 11: (1, 0, 1)}
    assert found.account == ACCOUNT
    assert found.lines == len(MAINLOG) + len(MAILLOG)
    assert not found.truncated


def test_the_window_is_whole_utc_hours_ending_with_nows(tmp_path: Path) -> None:
    found = read(tmp_path, [], [], hours=6)
    assert [h.start for h in found.hours] == [
        datetime(2026, 11, 20, hour, tzinfo=UTC) for hour in range(7, 13)
    ]
    assert all(h.start.tzinfo is UTC for h in found.hours)


def test_other_domains_lines_do_not_count(tmp_path: Path) -> None:
    found = activity(
        write(tmp_path / "exim_mainlog", MAINLOG),
        write(tmp_path / "maillog", MAILLOG),
        frozenset({"other.example"}),
        NOW,
        account="otheruser",
    )
    # bob's submission and U=otheruser's script, bob's refused AUTH, 2 POP3 failures; bob's
    # login at 11:07 is from the /24 he submitted from at 09:20: not a new network
    assert counts(found) == {9: (2, 1, 1), 10: (0, 2, 0)}


def test_a_domain_is_matched_whole_and_without_case(tmp_path: Path) -> None:
    lines = [
        "2026-11-20 09:00:00 1xU001-00000000001-01AB <= a@SHOP.example H=(p) [192.0.2.1]:1 P=esmtpsa A=dovecot_login:A@Shop.Example S=1",
        "2026-11-20 09:00:00 1xU002-00000000002-01AB <= a@evilshop.example H=(p) [192.0.2.1]:1 P=esmtpsa A=dovecot_login:a@evilshop.example S=1",
        "2026-11-20 09:00:00 1xU003-00000000003-01AB <= a@shop.example.evil H=(p) [192.0.2.1]:1 P=esmtpsa A=dovecot_login:a@shop.example.evil S=1",
    ]  # fmt: skip
    assert counts(read(tmp_path, lines, [])) == {9: (1, 0, 1)}


def test_a_bare_login_is_the_account(tmp_path: Path) -> None:
    lines = [
        "2026-11-20 09:00:00 dovecot_login authenticator failed for H=(User) [198.18.0.20]:40000: 535 Incorrect authentication data (set_id=shopuser)",
        "2026-11-20 09:00:00 dovecot_login authenticator failed for H=(User) [198.18.0.20]:40000: 535 Incorrect authentication data (set_id=root)",
    ]  # fmt: skip
    assert counts(read(tmp_path, lines, [])) == {9: (0, 1, 0)}


def test_a_summarised_failure_counts_its_times(tmp_path: Path) -> None:
    line = "2026-11-20 09:00:00 dovecot_login authenticator failed for H=(User) [198.18.0.20]:40000: 535 Incorrect authentication data (set_id=info@shop.example): 7 Time(s)"
    assert counts(read(tmp_path, [line], [])) == {9: (0, 7, 0)}


def test_syslog_times_take_nows_year_or_the_one_before(tmp_path: Path) -> None:
    lines = [
        "Dec 31 23:10:00 server1 dovecot[77]: imap-login: Aborted login (auth failed, 1 attempts): user=<info@shop.example>, method=PLAIN, rip=198.51.100.1, lip=192.0.2.1",
        "Jan  1 00:10:00 server1 dovecot[77]: imap-login: Aborted login (auth failed, 2 attempts): user=<info@shop.example>, method=PLAIN, rip=198.51.100.1, lip=192.0.2.1",
    ]  # fmt: skip
    maillog = write(tmp_path / "maillog", lines)
    now = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    found = activity(tmp_path / "none", maillog, DOMAINS, now, hours=2, account=ACCOUNT)
    assert [(h.start, h.failures) for h in found.hours] == [
        (datetime(2026, 12, 31, 23, tzinfo=UTC), 1),
        (datetime(2027, 1, 1, 0, tzinfo=UTC), 2),
    ]


def test_exim_writing_to_syslog_counts_each_line_once(tmp_path: Path) -> None:
    line = "Nov 20 09:00:00 server1 exim[123]: dovecot_login authenticator failed for H=(User) [198.18.0.20]:40000: 535 Incorrect authentication data (set_id=info@shop.example)"
    assert counts(read(tmp_path, [], [line, line])) == {9: (0, 1, 0)}


def tail_lines() -> list[str]:
    return [
        f"2026-11-20 {hour:02d}:00:00 1xU0{hour:02d}-0000000000{hour % 10}-01AB <= info@shop.example H=(p) [192.0.{hour}.1]:1 P=esmtpsa A=dovecot_login:info@shop.example S=1"
        for hour in range(10)
    ]


@pytest.mark.parametrize(("extra", "read_lines"), [(0, 3), (1, 3), (5, 3)])
def test_max_bytes_reads_the_tail_from_a_line_boundary(
    tmp_path: Path, extra: int, read_lines: int
) -> None:
    """``extra`` bytes of the line before the last three: a partial line is never read."""
    lines = tail_lines()
    size = sum(len(line) + 1 for line in lines[-3:]) + extra
    found = read(tmp_path, lines, [], max_bytes=size)
    assert found.truncated
    assert found.lines == read_lines
    assert counts(found) == {7: (1, 0, 1), 8: (1, 0, 1), 9: (1, 0, 1)}


def test_a_log_within_max_bytes_is_read_whole(tmp_path: Path) -> None:
    lines = tail_lines()
    found = read(tmp_path, lines, [], max_bytes=sum(len(line) + 1 for line in lines))
    assert not found.truncated
    assert found.lines == 10
    assert sum(h.sent for h in found.hours) == 10


def test_a_tail_without_a_line_start_reads_nothing(tmp_path: Path) -> None:
    found = read(tmp_path, ["x" * 100], [], max_bytes=50)
    assert found.truncated and found.lines == 0


def test_missing_or_unreadable_logs_count_as_empty(tmp_path: Path) -> None:
    (tmp_path / "a-directory").mkdir()
    found = activity(tmp_path / "missing", tmp_path / "a-directory", DOMAINS, NOW, account=ACCOUNT)
    assert found.lines == 0 and not found.truncated
    assert len(found.hours) == 48
    assert all(not (h.sent or h.failures or h.new_networks) for h in found.hours)


def test_hours_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hours"):
        read(tmp_path, [], [], hours=0)


HEADS = [
    b"",
    b"2026-11-20 09:00:00 1xU001-00000000001-01AB <= ",
    b"2026-11-20 09:00:00 1xU001-00000000001-01AB <= info@shop.example H=",
    b"2026-11-20 09:00:00 dovecot_login authenticator failed for ",
    b"Nov 20 10:00:00 server1 dovecot[77]: imap-login: ",
    b"Nov 20 10:00:00 server1 dovecot: auth: passwd-file(",
    b"Nov 20 10:00:00 server1 exim[1]: ",
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(HEADS), st.binary(max_size=200) | st.text().map(str.encode)),
        max_size=12,
    )
)
def test_arbitrary_lines_never_raise(tmp_path: Path, lines: list[tuple[bytes, bytes]]) -> None:
    data = b"\n".join(head + body for head, body in lines)
    (tmp_path / "mainlog").write_bytes(data)
    (tmp_path / "maillog").write_bytes(data)
    found = activity(tmp_path / "mainlog", tmp_path / "maillog", DOMAINS, NOW, account=ACCOUNT)
    assert len(found.hours) == 48
    assert found.lines >= 0
