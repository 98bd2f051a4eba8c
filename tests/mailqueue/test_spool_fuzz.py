"""-H files come from senders and remote clients: the parser reads them or says why not, never
crashes, and never reads past the data."""

from __future__ import annotations

import contextlib
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from csm.mailqueue.spool import SpoolFormatError, parse

EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "40")) * 5
ID = "1xVGME-0007g9-0G"
REAL = (
    f"{ID}-H\nroot 0 0\n<info@bluefin.test>\n1795387706 0\n-received_time_usec .084079\n"
    "--host_address [203.0.113.42]:0\n--host_name mua.example.net\n--host_auth dovecot_login\n"
    "--received_protocol esmtpa\n-aclc _x 5\nab\ncd\n--auth_id info@bluefin.test\n-frozen 17\n"
    "YN y@example.com\nNN a@example.net\n2\nx@example.org\n"
    "y@example.com <y@example.com> 15,0  0,-1#3\n\n"
    "018F From: a@b.example\n020  Subject: Invoice 42\n031I Message-ID: <abc@bluefin.test>\n"
).encode()


def test_a_real_header_file_reads_whole() -> None:
    message = parse(REAL, ID, 19 + 5)
    assert (message.sender, message.auth_id, message.host_address) == (
        "info@bluefin.test", "info@bluefin.test", "203.0.113.42",
    )  # fmt: skip
    assert message.frozen and message.recipients == ("x@example.org",)
    assert message.delivered == ("y@example.com", "a@example.net")
    assert message.header("subject") == "Invoice 42"
    assert message.size == 18 + 20 + 31 + 6


def test_exim_4_97_s_longer_ids_read_too() -> None:
    long_id = "1xVGME-0007g9abcdE-0G1z"
    message = parse(REAL.replace(ID.encode(), long_id.encode()), long_id, 26 + 5)
    assert message.id == long_id and message.recipients == ("x@example.org",)


MUTATIONS = st.sampled_from([b"", b"\n", b" ", b"-", b"999", b"YY ", b"XX\n", b"\xff", b"=?x?"])


@settings(max_examples=EXAMPLES, deadline=None)
@given(at=st.integers(0, len(REAL)), cut=st.integers(0, 40), insert=MUTATIONS)
def test_mutated_header_files_read_or_are_refused(at: int, cut: int, insert: bytes) -> None:
    data = REAL[:at] + insert + REAL[at + cut :]
    try:
        message = parse(data, ID, 24)
    except SpoolFormatError:
        return
    assert message.id == ID and message.size >= 0
    assert all("\n" not in r for r in message.recipients)


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_never_crash_the_parser(data: bytes) -> None:
    with contextlib.suppress(SpoolFormatError):
        parse(f"{ID}-H\n".encode() + data, ID, -1)
