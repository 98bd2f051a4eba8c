"""The spool index answers exactly what reading every -H file answers, whatever happened to the
spool between two summaries (messages queued, rewritten as Exim rewrites them, removed, cut,
split directories made) and whatever happened to the index file itself; and it parses nothing
when nothing changed."""

from __future__ import annotations

import marshal
import os
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm.mailqueue import index
from csm.mailqueue.index import OwnersKept, SpoolIndex
from csm.mailqueue.model import brief
from csm.mailqueue.reader import Queue

EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "40"))
LATER = 10**10  # ten seconds: an index refreshed this long after the last change trusts it
TICK = 0.02  # longer than the kernel's timestamp tick: two changes this far apart differ
IDS = [f"1xVGM{c}-0007g9-0{d}" for c in "EFGH" for d in "ABC"]


def header_file(msgid: str, sender: str, recipients: list[str], subject: str, frozen: bool) -> str:
    """A -H file as Exim writes it (the parts the summaries read)."""
    options = "-frozen 1795387706\n" if frozen else ""
    headers = [f"From: {sender}\n", f"Subject: {subject}\n"]
    return (
        f"{msgid}-H\nbluefin 1001 1001\n<{sender}>\n1795387706 0\n{options}XX\n"
        f"{len(recipients)}\n" + "".join(f"{r}\n" for r in recipients) + "\n"
        + "".join(f"{len(h):03d}  {h}" for h in headers)
    )  # fmt: skip


def place(spool: Path, msgid: str, split: bool) -> Path:
    folder = spool / "input" / msgid[5] if split else spool / "input"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def queue(spool: Path, msgid: str, text: str, split: bool) -> None:
    """Write the message as Exim does: -D first, then -H under a temporary name, renamed."""
    folder = place(spool, msgid, split)
    (folder / f"{msgid}-D").write_text(f"{msgid}-D\nbody of {msgid}\n")
    temporary = folder / f"hdr.{msgid}"
    temporary.write_text(text)
    temporary.rename(folder / f"{msgid}-H")


def remove(spool: Path, msgid: str, split: bool) -> None:
    folder = place(spool, msgid, split)
    for suffix in ("-H", "-D"):
        (folder / f"{msgid}{suffix}").unlink(missing_ok=True)


def everything(spool: Path) -> tuple[list[Any], list[str]]:
    """What reading every file says: each message's brief, and the unreadable ones."""
    read = Queue(None, spool).read(0)  # type: ignore[arg-type]  # no `exim -bp` fallback here
    return sorted(brief(m) for m in read.messages), sorted(p.id for p in read.problems)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["queue", "rewrite", "remove", "cut"]),
        st.sampled_from(IDS),
        st.sampled_from(["Invoice 42", "Hello", "=?utf-8?q?Caf=C3=A9?="]),
        st.booleans(),
    ),
    min_size=1,
    max_size=4,
)


def apply(spool: Path, split: bool, step: tuple[str, str, str, bool]) -> None:
    action, msgid, subject, frozen = step
    folder = place(spool, msgid, split)
    there = (folder / f"{msgid}-H").exists()
    if action in ("queue", "rewrite") and (action == "queue" or there):
        rcpts = ["a@example.com", "b@Example.com"] if frozen else ["c@example.net"]
        queue(spool, msgid, header_file(msgid, "info@bluefin.test", rcpts, subject, frozen), split)
    elif action == "remove":
        remove(spool, msgid, split)
    elif action == "cut" and there:  # a damaged file, put in place as Exim would
        temporary = folder / f"hdr.{msgid}"
        temporary.write_bytes((folder / f"{msgid}-H").read_bytes()[:40])
        temporary.rename(folder / f"{msgid}-H")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rounds=st.lists(st.tuples(OPERATIONS, st.booleans()), min_size=1, max_size=5),
    split=st.booleans(),
)
def test_the_index_answers_what_reading_every_file_answers(
    tmp_path_factory: pytest.TempPathFactory, rounds: list[Any], split: bool
) -> None:
    spool = tmp_path_factory.mktemp("spool")
    (spool / "input").mkdir()
    saved = str(spool / "queue-index")
    for steps, later in rounds:
        time.sleep(TICK)  # each round's changes are later than the last refresh's stamps
        for step in steps:
            apply(spool, split, step)
        spool_index = SpoolIndex.load(saved)  # through the file, as each command does
        now = time.time_ns() + LATER if later else None  # later: the index trusts what it saw
        read = spool_index.refresh(str(spool / "input"), now)
        spool_index.save()
        assert (read.briefs, sorted(p.id for p in read.problems)) == everything(spool)


def test_an_unchanged_spool_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "spool"
    for msgid in IDS[:6]:
        queue(spool, msgid, header_file(msgid, "x@y.test", ["a@b.test"], "Hi", False), True)
    saved = str(tmp_path / "queue-index")
    first = SpoolIndex.load(saved)
    expected = first.refresh(str(spool / "input"), time.time_ns() + LATER)
    first.save()
    monkeypatch.setattr(index, "_parsed", lambda *_: pytest.fail("a file was parsed again"))
    again = SpoolIndex.load(saved)
    assert again.refresh(str(spool / "input"), time.time_ns() + LATER) == expected
    assert not again.changed


def test_a_directory_changed_just_now_is_read_again_every_time(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    msgid = IDS[0]
    queue(spool, msgid, header_file(msgid, "x@y.test", ["a@b.test"], "Hi", False), False)
    spool_index = SpoolIndex(str(tmp_path / "queue-index"))
    spool_index.refresh(str(spool / "input"))  # now: everything is too recent to trust
    spool_index.changed = False
    spool_index.refresh(str(spool / "input"))
    assert spool_index.changed and spool_index.dirs[""][0] is None


def test_a_damaged_index_is_an_empty_one(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    for msgid in IDS[:3]:
        queue(spool, msgid, header_file(msgid, "x@y.test", ["a@b.test"], "Hi", False), True)
    saved = tmp_path / "queue-index"
    spool_index = SpoolIndex.load(str(saved))
    spool_index.refresh(str(spool / "input"), time.time_ns() + LATER)
    spool_index.save()
    assert saved.stat().st_mode & 0o777 == 0o600
    whole = saved.read_bytes()
    for damaged in (whole[:-10], whole[:20], whole.replace(b"index 1", b"index 9"), b"", b"\n"):
        saved.write_bytes(damaged)
        assert SpoolIndex.load(str(saved)).dirs == {}
        assert (
            SpoolIndex.load(str(saved)).refresh(str(spool / "input")).briefs == everything(spool)[0]
        )


@settings(max_examples=EXAMPLES * 5, deadline=None)
@given(at=st.integers(0, 400), data=st.binary(max_size=8))
def test_any_flipped_bytes_load_as_an_index_or_none(at: int, data: bytes) -> None:
    blob = marshal.dumps(({"": (None, marshal.dumps({}), [])}, None))
    whole = index.FORMAT + b" %d\n" % zlib.crc32(blob) + blob
    cut = at % (len(whole) + 1)
    damaged = whole[:cut] + data + whole[cut + len(data) :]
    descriptor, path = tempfile.mkstemp()
    os.write(descriptor, damaged)
    os.close(descriptor)
    try:
        loaded = SpoolIndex.load(path)
    finally:
        os.unlink(path)
    assert isinstance(loaded.dirs, dict)


def test_saving_where_it_cannot_write_is_silently_nothing(tmp_path: Path) -> None:
    spool_index = SpoolIndex(str(tmp_path / "missing-dir" / "queue-index"))
    spool_index.changed = True
    spool_index.save()
    assert not (tmp_path / "missing-dir").exists() and spool_index.changed


def test_saved_owners_hold_while_their_files_and_the_configuration_do(tmp_path: Path) -> None:
    userdomains = tmp_path / "userdomains"
    userdomains.write_text("bluefin.test: bluefin\n")
    old = time.time_ns() - LATER
    os.utime(userdomains, ns=(old, old))
    missing = str(tmp_path / "no-such-file")
    # the ctime cannot be set back: just written, the file is too recent to trust
    assert index.stamps([str(userdomains)]) is None
    stamps = (
        (str(userdomains), (1, 2, 3, 4)),
        (missing, index.MISSING),
    )
    kept = OwnersKept("digest", stamps, ("bluefin",), {"bluefin.test": "bluefin"})
    assert not index.owners_hold(kept, "digest")  # the recorded stamp is not this file's
    assert not index.owners_hold(kept, "another configuration")
    assert index.stamps([missing]) == ((missing, index.MISSING),)
    only_missing = OwnersKept("digest", ((missing, index.MISSING),), (), {})
    assert index.owners_hold(only_missing, "digest")
    Path(missing).write_text("now it exists\n")
    assert not index.owners_hold(only_missing, "digest")
