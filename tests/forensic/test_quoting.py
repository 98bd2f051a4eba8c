"""Go ``%q`` quoting of manifest values, and the tab-separated fields: known Go outputs,
round trips through our own Go-compatible unquote, and never a raw control character."""

from __future__ import annotations

import os
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm.forensic import tsv
from csm.forensic.quoting import as_bytes, go_quote, go_unquote

# What Go's fmt.Sprintf("%q", s) prints for each (Go's strconv rules, written out by hand).
GO = [
    ("", '""'),
    ("/home/acct/public_html/wp-config.php", '"/home/acct/public_html/wp-config.php"'),
    ('a"b\\c', '"a\\"b\\\\c"'),
    ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
    ("\x00\x1b\x7f", '"\\x00\\x1b\\x7f"'),
    ("café 日本 😀 ✓", '"café 日本 😀 ✓"'),
    ("\u00a0\u00ad\u2028\ue000\u0378", '"\\u00a0\\u00ad\\u2028\\ue000\\u0378"'),
    ("\U000e0001", '"\\U000e0001"'),
    ("\ufffd", '"\ufffd"'),  # a real U+FFFD is printable; only invalid bytes become \x
    (b"\xff\xfeok", '"\\xff\\xfeok"'),
    (b"\xed\xa0\x80", '"\\xed\\xa0\\x80"'),  # an encoded surrogate is invalid UTF-8 in Go too
    (b"\xe2\x82", '"\\xe2\\x82"'),  # a truncated sequence
    (os.fsdecode(b"x\xffy"), '"x\\xffy"'),  # an undecodable file name byte, as os.fsdecode keeps it
]


@pytest.mark.parametrize(("value", "quoted"), GO)
def test_go_quote_matches_go(value: str | bytes, quoted: str) -> None:
    assert go_quote(value) == quoted
    assert go_unquote(quoted) == as_bytes(value)


def go_printable(ch: str) -> bool:
    return ch == " " or unicodedata.category(ch)[0] in "LMNPS"


@given(st.binary())
def test_any_bytes_round_trip(raw: bytes) -> None:
    quoted = go_quote(raw)
    assert go_unquote(quoted) == raw
    assert all(go_printable(ch) for ch in quoted)


@given(st.text())
def test_any_text_round_trips_and_holds_no_control_character(text: str) -> None:
    quoted = go_quote(text)
    assert go_unquote(quoted).decode("utf-8", "surrogateescape") == text.encode(
        "utf-8", "surrogatepass"
    ).decode("utf-8", "surrogateescape")
    assert quoted[0] == quoted[-1] == '"' and "\n" not in quoted and "\r" not in quoted
    assert all(go_printable(ch) for ch in quoted)
    assert '"' not in quoted[1:-1].replace('\\"', "").replace("\\\\", "")


@pytest.mark.parametrize(
    "bad",
    ['"abc', 'abc"', '"a\nb"', '"a"b"', '"\\q"', '"\\x4"', '"\\ud800"', '"\\U00110000"', '"\\'],
)
def test_go_unquote_refuses_what_go_refuses(bad: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each message names its own problem
        go_unquote(bad)


def test_go_unquote_reads_octal_and_unicode_escapes() -> None:
    assert go_unquote('"\\101\\u00e9\\U0001f600"') == "Aé😀".encode()


@given(st.one_of(st.binary(), st.text(), st.none(), st.integers()))
def test_tsv_fields_round_trip_without_tabs_or_line_breaks(value: bytes | str | int | None) -> None:
    field = tsv.field(value)
    assert not any(ch in field for ch in "\t\n\r\x00")
    assert all(unicodedata.category(ch) not in ("Cc", "Zl", "Zp") for ch in field)
    field.encode("utf-8")  # always writable as UTF-8
    if value is None:
        assert tsv.unescape(field) is None
    else:
        expected = value if isinstance(value, bytes) else as_bytes(str(value))
        assert tsv.unescape(field) == expected


def test_tsv_known_fields() -> None:
    assert tsv.field("plain name.php") == "plain name.php"
    assert tsv.field(b"a\tb\nc\\d\xff\x01") == "a\\tb\\nc\\\\d\\xff\\x01"
    assert tsv.field(None) == "\\N" and tsv.field("\\N") == "\\\\N"
    assert tsv.record([1, "x", None]) == "1\tx\t\\N\n"
