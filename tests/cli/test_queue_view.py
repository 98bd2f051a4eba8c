"""The summary table as text: subjects, senders and keys come from the mail, so whatever they
hold is printed visibly, on its own line, never as a terminal control sequence."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from csm.cli.queue_view import problem_lines, summary_lines
from csm.mailqueue.model import SpoolProblem
from csm.mailqueue.views import Row, Summary

EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "40")) * 5
NOW = 1_795_387_706


def table(key: str, subject: str, account: str = "bluefin") -> list[str]:
    row = Row(key, 3, 3, 4096, 1, NOW - 7200, NOW - 60, [account], [subject])
    total = Row("TOTAL", 3, 3, 4096, 1, NOW - 7200, NOW - 60, [account], [subject])
    return summary_lines(Summary("sender", (row,), total, "spool"), NOW)


def test_the_table_reads_like_exiqsumm_with_accounts() -> None:
    lines = table("info@bluefin.test", "Invoice 42")
    assert lines[0].split()[:5] == ["COUNT", "VOLUME", "OLDEST", "NEWEST", "SENDER"]
    assert lines[1].split()[:6] == ["3", "4096", "2h", "1m", "info@bluefin.test", "bluefin"]
    assert lines[-1].split()[4] == "TOTAL"


@settings(max_examples=EXAMPLES, deadline=None)
@given(key=st.text(max_size=30), subject=st.text(max_size=120), account=st.text(max_size=10))
def test_text_from_the_mail_never_reaches_the_terminal_raw(
    key: str, subject: str, account: str
) -> None:
    lines = table(key, subject, account)
    assert len(lines) == 3
    for line in lines:
        assert not any((ord(c) < 32 and c != "\t") or 127 <= ord(c) < 160 for c in line)
    shown = problem_lines([SpoolProblem("1xVGME-0007g9-0G", f"/spool/{key}-H", subject)])
    assert len(shown) == 1 and "\x1b" not in shown[0] and "\n" not in shown[0]


def test_an_escape_sequence_is_shown_not_obeyed() -> None:
    assert "\\x1b[2J" in table("x@y.test", "\x1b[2JYou have been hacked")[1]
