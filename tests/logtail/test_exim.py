"""Exim mainlog line shapes (``csm-go-facts.md`` §9.1 and §4.2), both id formats, wrappers,
forgery attempts, and fuzzing: a line either parses or is skipped, never an exception."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm.logtail.formats import exim, eximauth, text

OLD_ID, NEW_ID = "1abc23-000456-AB", "1wFWBE-000000036n0-1PMK"
AUTHED = (
    f"2026-04-04 10:15:23 {OLD_ID} <= user@example.com H=mail.example.com [203.0.113.42] "
    'P=esmtpsa X=TLS1.3 A=dovecot_login:user@example.com S=1234 T="Test"'
)


def arrival(line: str) -> exim.Arrival:
    parsed = exim.parse(line, 2026)
    assert parsed is not None and parsed.flag == "<="
    found = exim.arrival(parsed.rest)
    assert found is not None
    return found


def test_an_authenticated_submission() -> None:
    parsed = exim.parse(AUTHED)
    assert parsed is not None
    assert (parsed.time, parsed.msgid, parsed.flag) == (1775297723, OLD_ID, "<=")
    found = arrival(AUTHED)
    assert (found.sender, found.ip, found.host) == (
        "user@example.com",
        "203.0.113.42",
        "mail.example.com",
    )
    assert (found.auth_id, found.protocol, found.size, found.subject) == (
        "user@example.com",
        "esmtpsa",
        1234,
        "Test",
    )


def test_the_new_23_character_ids() -> None:
    line = (
        f"2026-04-22 14:55:43 {NEW_ID} <= info@occonsultingcy.com H=204.118.26.34.bc."
        "googleusercontent.com (occonsultingcy.com) [34.26.118.204]:47280 P=esmtpsa"
    )
    parsed = exim.parse(line)
    assert parsed is not None and parsed.msgid == NEW_ID
    assert arrival(line).host.endswith("googleusercontent.com")


@pytest.mark.parametrize(
    ("line", "auth", "ip"),
    [
        # a forged A= in the HELO name is ignored
        (f"2026-04-04 10:15:23 {OLD_ID} <= user@example.com H=(A=dovecot_login:forged@example.com) [203.0.113.42] P=esmtp S=1234", "", "203.0.113.42"),
        # an address literal as HELO is not the client address
        (f"2026-04-04 10:15:23 {OLD_ID} <= a@b.test H=([192.0.2.66]) [203.0.113.9]:25 P=esmtp S=1", "", "203.0.113.9"),
        # a HELO with spaces (junk hosts allowed) cannot inject fields either
        (f"2026-04-04 10:15:23 {OLD_ID} <= a@b.test H=(x [192.0.2.66] A=dovecot_login:evil y) [203.0.113.9]:25 P=esmtp S=1", "", "203.0.113.9"),
        # a subject cannot add an A=
        (f'2026-04-04 10:15:23 {OLD_ID} <= a@b.test H=h [203.0.113.9] P=esmtp S=1 T="hi \\" A=dovecot_login:evil"', "", "203.0.113.9"),
        # a Message-ID (id=) is the sender's text too
        (f'2026-04-04 10:15:23 {OLD_ID} <= a@b.test H=h [203.0.113.9] P=esmtp S=1 id=x A=dovecot_login:evil T="s"', "", "203.0.113.9"),
        # and so is a subject that fakes a client address for a local message
        (f'2026-04-04 10:15:23 {OLD_ID} <= a@b.test U=alice P=local S=1 T="x H=(y) [192.0.2.1] A=dovecot_login:evil"', "", ""),
        # the first A= after the client address wins
        (f"2026-04-04 10:15:23 {OLD_ID} <= a@b.test H=h [203.0.113.9] P=esmtpa A=dovecot_login:real@b.test S=1 A=dovecot_login:late", "dovecot_login:real@b.test", "203.0.113.9"),
    ],
)  # fmt: skip
def test_fields_cannot_be_forged(line: str, auth: str, ip: str) -> None:
    found = arrival(line)
    assert (found.auth, found.ip) == (auth, ip)


def test_a_quoted_sender_cannot_forge_the_local_user() -> None:
    found = arrival(
        f'2026-04-04 10:15:23 {OLD_ID} <= "x U=root P=local"@evil.test U=alice P=local S=5'
    )
    assert (found.user, found.protocol, found.sender) == (
        "alice",
        "local",
        '"x U=root P=local"@evil.test',
    )


def test_local_and_php_mail() -> None:
    local = arrival(f"2026-04-14 10:00:00 {OLD_ID} <= alice@example.com U=alice P=local S=512")
    assert (local.user, local.protocol, local.ip) == ("alice", "local", "")
    php = arrival(
        f"2026-04-29 12:00:01 {OLD_ID} <= info@example.com U=exampleuser ID=1168 B=redirect_resolver"
    )
    assert (php.user, php.resolver) == ("exampleuser", "redirect_resolver")


def test_a_bounce_names_the_message_it_bounces() -> None:
    found = arrival(f"2026-04-12 10:00:00 {NEW_ID} <= <> R={OLD_ID} U=mailnull P=local S=2000")
    assert (found.sender, found.bounce_of) == ("<>", OLD_ID)


@pytest.mark.parametrize(
    ("line", "msgid", "flag", "pid", "time"),
    [
        (f"2026-04-04 10:15:23 {OLD_ID} => user@example.com R=lookuphost T=remote_smtp", OLD_ID, "=>", 0, 1775297723),
        (f"2026-08-13 20:45:33 {NEW_ID} Frozen (delivery error message)", NEW_ID, "", 0, 1786653933),
        (f"2026-08-13 20:45:33 +0300 [4242] {NEW_ID} Frozen (delivery error message)", NEW_ID, "", 4242, 1786643133),
        (f"2026-08-13 20:45:33.123456 [7] {NEW_ID} Completed", NEW_ID, "", 7, 1786653933),
        ("2026-04-11 12:00:00 dovecot_login authenticator failed for H=(mail.example.com) [198.51.100.40]:54321: 535 Incorrect authentication data (set_id=user@example.com)", "", "", 0, 1775908800),
        (f"2026-04-11 12:00:00 {OLD_ID} == user@example.com R=enforce_mail_permissions defer (-1): \"Domain example.com has an outgoing mail hold. Message will be reattempted later\"", OLD_ID, "==", 0, 1775908800),
        ("2026-04-12 10:00:00 ** <user@broken-spf.com> R=dkim_lookuphost T=remote : 550 5.7.23 SPF check failed", "", "", 0, 1775988000),
        ("Apr 14 12:00:05 host exim[123]: 2026-04-14 12:00:05 1abc23-000456-AB <= a@b.test U=x P=local S=1", OLD_ID, "<=", 0, 1776168005),
        ("Apr 14 12:00:05 host exim[123]: 1abc23-000456-AB <= a@b.test U=x P=local S=1", OLD_ID, "<=", 123, 1776168005),
        ("2026-04-14T12:00:05.123+02:00 host exim[9]: 1abc23-000456-AB Completed", OLD_ID, "", 9, 1776160805),
    ],
)  # fmt: skip
def test_line_shapes(line: str, msgid: str, flag: str, pid: int, time: int) -> None:
    parsed = exim.parse(line, 2026)
    assert parsed is not None
    assert (parsed.msgid, parsed.flag, parsed.pid, parsed.time) == (msgid, flag, pid, time)


@pytest.mark.parametrize(
    "line",
    ["", "garbage", "2026-13-45 99:99:99 x", "2026-04-04 10:15", "Apr 14 12:00:05 host sshd[1]: x",
     "Apr 99 12:00:05 host exim[1]: x", "2026-04-04 10:15:23 [notapid] x"],
)  # fmt: skip
def test_unparseable_lines_are_none(line: str) -> None:
    assert exim.parse(line, 2026) is None


@pytest.mark.parametrize("rest", ["", "   ", "a@b H=", "a@b H=host", "a@b H=(helo) [999.1.1.1]"])
def test_malformed_arrivals_are_none(rest: str) -> None:
    assert exim.arrival(rest) is None


@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    parsed = exim.parse(text.line(data), 2026)
    if parsed is not None and parsed.flag == "<=":
        exim.arrival(parsed.rest)


@given(st.data())
def test_mutated_real_lines_never_raise_and_never_gain_an_auth(data: st.DataObject) -> None:
    base = bytearray(AUTHED.replace("A=dovecot_login:user@example.com ", "").encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(base)))
        insert = data.draw(
            st.sampled_from([b" ", b"(", b")", b"[", b"]", b'"', b"\\", b"A=x:y", b"\xff", b"\n"])
        )
        base[at:at] = insert
    parsed = exim.parse(text.line(bytes(base)), 2026)
    if parsed is not None and parsed.flag == "<=":
        found = exim.arrival(parsed.rest)
        assert found is None or found.auth == "" or "x:y" in found.auth


@given(st.binary(max_size=40))
def test_text_fields_are_utf8_whatever_the_bytes(junk: bytes) -> None:
    """A sender in any bytes comes out as the UTF-8 text it would be, never mojibake."""
    sender = "jos\u00e9@example.com".encode() + junk.replace(b" ", b"")
    line = text.line(b"2026-04-04 10:15:23 " + OLD_ID.encode() + b" <= " + sender + b" U=a P=local")
    parsed = exim.parse(line, 2026)
    assert parsed is not None
    found = exim.arrival(parsed.rest)
    assert found is not None
    assert found.sender == sender.decode("utf-8", "replace")


ID_PATTERN = re.compile(
    r"[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|[0-9A-Za-z]{11}-[0-9A-Za-z]{4})"
)


@given(st.one_of(
    st.text(alphabet="aZ09-_ \u00e9\u00b2", min_size=14, max_size=25),
    st.sampled_from([OLD_ID, NEW_ID, OLD_ID.replace("-", "x"), NEW_ID[:-1] + "-"]),
))  # fmt: skip
def test_message_ids_are_exactly_exim_s_two_formats(candidate: str) -> None:
    assert exim.is_message_id(candidate) == bool(ID_PATTERN.fullmatch(candidate))


@given(candidate=st.binary(min_size=14, max_size=25) | st.sampled_from([OLD_ID.encode(),
       NEW_ID.encode()]), before=st.binary(max_size=25), after=st.binary(max_size=5))  # fmt: skip
def test_message_ids_are_read_in_place_in_raw_lines(
    candidate: bytes, before: bytes, after: bytes
) -> None:
    raw, start = before + candidate + after, len(before)
    expected = bool(ID_PATTERN.fullmatch(candidate.decode("latin-1")))
    assert exim.message_id_at(raw, start, start + len(candidate)) == expected
    assert not exim.message_id_at(raw[: start + len(candidate) - 1], start, start + len(candidate))


NOISE = st.text(alphabet=' AUPHS=:[]()"\\x@.-', max_size=30)


@given(helo=NOISE.filter(lambda h: ") [" not in h and " " not in h), subject=NOISE, ident=NOISE)
def test_sender_text_never_becomes_a_field(helo: str, subject: str, ident: str) -> None:
    """Whatever a client puts in its HELO, Message-ID or Subject, the fields read are Exim's."""
    line = (
        f"2026-04-04 10:15:23 {OLD_ID} <= a@b.test H=host.test ({helo}) [203.0.113.9]:25"
        f' P=esmtpsa A=dovecot_login:real@b.test S=10 id={ident} T="{subject}"'
    )
    found = arrival(line)
    assert (found.auth, found.protocol, found.user, found.ip, found.host) == (
        "dovecot_login:real@b.test", "esmtpsa", "", "203.0.113.9", "host.test",
    )  # fmt: skip


@given(st.binary(max_size=200).map(text.line))  # lines are read as Latin-1
def test_hostile_auth_failure_text_never_raises(tail: str) -> None:
    for head in ("login authenticator failed for ", "x authenticator failed for H=(", "a authenticator failed for [1.2.3.4]"):  # fmt: skip
        failed = eximauth.auth_failure(head + tail)
        assert failed is None or (failed.ip and 1 <= failed.times <= eximauth.MOST_TIMES)


def test_a_login_cannot_move_the_client_address() -> None:
    for login in ("a [6.6.6.6]", "a) H=(x) [6.6.6.6]:1: 535 x (set_id=b", "a) [6.6.6.6]: 5 Time(s"):
        rest = f"login authenticator failed for (x) [192.0.2.1]:5: 535 Incorrect authentication data (set_id={login})"
        failed = eximauth.auth_failure(rest)
        assert failed is not None and failed.ip == "192.0.2.1"
        assert failed.login == login or failed.times == 5  # a summariser's count can be forged


def test_a_wrapped_line_that_only_looks_timestamped_is_read_without_a_timestamp() -> None:
    """An authenticator name such as ``0000-_auth`` (found by the shape property test)."""
    line = (
        "Nov 20 09:00:00 server1 exim[1]: 0000-_auth authenticator failed for [2001:db8::1]:"
        " 535 Incorrect authentication data (set_id=0)"
    )
    parsed = exim.parse(line, 2026)
    assert parsed is not None and parsed.rest.startswith("0000-_auth authenticator failed")
    failed = eximauth.auth_failure(parsed.rest)
    assert failed is not None and (failed.ip, failed.login) == ("2001:db8::1", "0")
