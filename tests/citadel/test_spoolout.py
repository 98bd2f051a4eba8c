"""The delivery instructions as citserver writes them (docs/delivery-list.txt), in the shapes
of its two SMTP clients: the current one (``envelope_from``, ``attempted`` the last attempt)
and the 8.x/9.x event client (``retry``, no ``envelope_from`` on older releases)."""

from __future__ import annotations

from csm.citadel.client import Listed
from csm.citadel.spoolout import instructions, payload
from csm.mailqueue.citadel import Job, as_queued

HEAD = (
    b"Date: Thu, 03 Dec 2026 09:00:00 +0000",
    b"Subject: QMSG",
    b"From: Citadel",
    b"Content-type: application/x-citadel-delivery-list",
    b"",
)


def test_the_current_client_s_instructions() -> None:
    body = (
        b"msgid|1003",
        b"submitted|1796288400",
        b"bounceto|jane@shop.example",
        b"envelope_from|jane@shop.example",
        b"remote|a@x.example|2|250 2.0.0 Ok",
        b"remote|b@y.example|4|451 (try later)",
        b"remote|c@z.example|5|550 (no such user)",
        b"remote|d@w.example|0||",
        b"attempted|1796288460",
    )
    found = instructions(1004, Listed((*HEAD, *body), False))
    assert found is not None
    assert (found.number, found.msgid, found.submitted, found.attempted) == (
        1004,
        1003,
        1796288400,
        1796288460,
    )
    assert found.pending == ("b@y.example", "d@w.example")
    assert found.delivered == ("a@x.example",)


def test_the_event_client_s_instructions_without_envelope_from() -> None:
    body = (b"msgid|77", b"submitted|1700000000", b"bounceto|jane@shop.example", b"retry|900")
    body += (b"attempted|1700000900", b"remote|a@x.example|3|Connection refused")
    found = instructions(78, Listed((*HEAD, *body), False))
    assert found is not None and found.envelope_from == "" and found.pending == ("a@x.example",)
    message = payload(77, Listed((b"Subject: hi", b"From: jane@shop.example", b"", b"x"), False))
    assert as_queued(Job(found, message)).sender == "jane@shop.example"  # from bounceto


def test_a_local_bounceto_is_the_submitting_user_not_a_sender() -> None:
    body = (b"msgid|77", b"submitted|1700000000", b"bounceto|jane", b"remote|a@x.example|0||")
    found = instructions(78, Listed((*HEAD, *body), False))
    assert found is not None
    message = payload(77, Listed((b"Subject: hi", b"", b"x"), False))
    queued = as_queued(Job(found, message))
    assert (queued.sender, queued.local_user) == ("", "jane")


def test_instructions_whose_content_type_was_lost_are_still_read() -> None:
    head = (b"Subject: QMSG", b"")
    found = instructions(9, Listed((*head, b"msgid|8", b"remote|a@x.example|0||"), False))
    assert found is not None and found.msgid == 8


def test_an_ordinary_message_is_not_instructions() -> None:
    lines = (b"Subject: msgid|5", b"Content-Type: text/plain", b"", b"msgid|5")
    assert instructions(9, Listed(lines, False)) is None
