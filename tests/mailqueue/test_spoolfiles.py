"""Only regular files are read from the spool: a named pipe, a device, a directory or a link
where a ``-H`` file should be is reported as a problem and skipped, never opened in a way
that blocks (``csm queue list|summary|review`` once hung on a pipe forever)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm.drill.build import EXIM_SPOOL, DrillHost
from csm.mailqueue import spoolfiles
from csm.mailqueue.index import SpoolIndex
from csm.mailqueue.reader import Queue
from tests.mailqueue.test_index import EXAMPLES, IDS, header_file, queue
from tests.pipes import returns

KINDS = ["message", "damaged", "pipe", "link to a message", "link to a pipe", "directory"]

GOOD = "1xVGME-0007g9-0A"
PIPE = "1xVGMF-0007g9-0B"


def test_read_takes_regular_files_only(tmp_path: Path) -> None:
    regular = tmp_path / f"{GOOD}-H"
    regular.write_bytes(b"x" * 200_000)
    assert spoolfiles.read(regular) == b"x" * 200_000
    pipe = tmp_path / f"{PIPE}-H"
    os.mkfifo(pipe)
    link = tmp_path / "link-H"
    link.symlink_to(regular)
    for other in (pipe, link, tmp_path):
        with pytest.raises(spoolfiles.NotRegularFileError, match=str(other)):
            returns(lambda other=other: spoolfiles.read(other), pipe)
    with pytest.raises(FileNotFoundError):
        spoolfiles.read(tmp_path / "gone-H")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=len(IDS)), split=st.booleans())
def test_whatever_sits_at_a_header_name_the_queue_reads_or_reports(
    tmp_path_factory: pytest.TempPathFactory, kinds: list[str], split: bool
) -> None:
    """Read through the files and through the index alike: the messages are exactly the
    regular, whole -H files; every other name is a problem; nothing blocks."""
    spool = tmp_path_factory.mktemp("spool")
    pipes = [_place(spool, msgid, kind, split) for msgid, kind in zip(IDS, kinds, strict=False)]
    waited = [p for p in pipes if p is not None]
    read = returns(lambda: Queue(None, spool).read(0), *waited)  # type: ignore[arg-type]
    indexed = returns(
        lambda: SpoolIndex(str(spool / "index")).refresh(str(spool / "input")), *waited
    )
    whole = sorted(i for i, k in zip(IDS, kinds, strict=False) if k == "message")
    assert sorted(m.id for m in read.messages) == sorted(b.id for b in indexed.briefs) == whole
    others = sorted(set(IDS[: len(kinds)]) - set(whole))
    assert sorted(p.id for p in read.problems) == sorted(p.id for p in indexed.problems) == others


def _place(spool: Path, msgid: str, kind: str, split: bool) -> Path | None:
    """Put ``kind`` where the message's -H file goes; the pipe made, if one was."""
    text = header_file(msgid, "a@shop.test", ["b@example.com"], "hi", False)
    queue(spool, msgid, text, split)
    header = next((spool / "input").rglob(f"{msgid}-H"))
    if kind == "message":
        return None
    header.unlink()
    elsewhere = spool / f"elsewhere-{msgid}"
    if kind == "damaged":
        header.write_text(text[:30])
    elif kind == "directory":
        header.mkdir()
    elif kind == "link to a message":
        elsewhere.write_text(text)
        header.symlink_to(elsewhere)
    else:
        pipe = elsewhere if kind == "link to a pipe" else header
        os.mkfifo(pipe)
        if pipe != header:
            header.symlink_to(pipe)
        return pipe
    return None


@pytest.fixture
def piped(drill: DrillHost) -> Path:
    """The drill's spool with one message and, where another's -H file would be, a pipe."""
    spool = drill.root / EXIM_SPOOL.lstrip("/")
    queue(spool, GOOD, header_file(GOOD, "a@shop.test", ["b@example.com"], "hello", False), True)
    pipe = spool / "input" / PIPE[5] / f"{PIPE}-H"
    pipe.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(pipe)
    return pipe


def test_a_pipe_in_the_spool_is_reported_and_skipped(cli: Any, piped: Path) -> None:
    listed = returns(lambda: cli("queue", "list", "--json"), piped)
    assert listed.code == 0, listed.err
    report = listed.json()
    assert [m["id"] for m in report["items"]] == [GOOD]
    assert [(p["id"], p["path"]) for p in report["problems"]] == [(PIPE, str(piped))]
    assert "not a regular file" in report["problems"][0]["error"]
    summary = returns(lambda: cli("queue", "summary"), piped)
    assert summary.code == 0 and f"unreadable spool file {piped}" in summary.err
    assert "not a regular file" in summary.err
    reviewed = returns(lambda: cli("queue", "review", "--no-record", "--json"), piped)
    assert reviewed.code == 0, reviewed.err
    assert [v["id"] for v in reviewed.json()["verdicts"]] == [GOOD]
    assert reviewed.json()["problems"] == 1
    shown = returns(lambda: cli("queue", "show", PIPE, "--json"), piped)
    assert shown.code == 1 and shown.json()["code"] == "not_found"
