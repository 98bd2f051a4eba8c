"""The follower loses no line and reads none twice: across rename-and-create, copytruncate,
compressed rotations, restarts from a stored position, partial and over-long lines."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm.logtail.follower import Follower, Position, head_hash


def read_all(follower: Follower, polls: int = 4) -> list[bytes]:
    got: list[bytes] = []
    for _ in range(polls):
        for chunk in follower.poll():
            got += chunk.lines
    return got


class Writer:
    """A log writer (Exim) and its rotations, keeping every complete line it wrote."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written: list[bytes] = []
        self.number = 0
        self.partial = b""
        path.write_bytes(b"")

    def lines(self, count: int, *, partial: bool = False) -> None:
        with self.path.open("ab") as log:
            for _ in range(count):
                self.number += 1
                line = f"2026-12-03 03:00:00 line {self.number}".encode()
                self.written.append(line)
                if self.partial:
                    log.write(self.partial)
                    self.partial = b""
                log.write(line + b"\n")
            if partial:
                self.number += 1
                line = f"2026-12-03 03:00:00 line {self.number}".encode()
                self.written.append(line)
                log.write(line[:10])
                self.partial = line[10:] + b"\n"

    def finish_line(self) -> None:
        if self.partial:
            with self.path.open("ab") as log:
                log.write(self.partial)
            self.partial = b""

    def rotate(self, *, copy: bool = False, compress: bool = False) -> None:
        self.finish_line()
        siblings = sorted(self.path.parent.glob(self.path.name + ".*"), reverse=True)
        for sibling in siblings:  # x.2 -> x.3, x.1.gz -> x.2.gz, ...
            number, _, rest = sibling.name[len(self.path.name) + 1 :].partition(".")
            os.rename(
                sibling,
                sibling.with_name(
                    f"{self.path.name}.{int(number) + 1}{'.' + rest if rest else ''}"
                ),
            )
        first = self.path.with_name(self.path.name + ".1")
        if copy:
            shutil.copyfile(self.path, first)
            with self.path.open("r+b") as log:
                log.truncate(0)
        else:
            os.rename(self.path, first)
            self.path.write_bytes(b"")
        if compress and first.stat().st_size:  # an empty log is not compressed (notifempty)
            with first.open("rb") as raw, gzip.open(f"{first}.gz", "wb") as packed:
                shutil.copyfileobj(raw, packed)
            first.unlink()


def test_appended_lines_and_a_partial_last_line(tmp_path: Path) -> None:
    log = Writer(tmp_path / "exim_mainlog")
    follower = Follower(log.path, from_start=True)
    log.lines(3, partial=True)
    assert read_all(follower) == log.written[:3]  # the last line is not complete yet
    log.finish_line()
    log.lines(1)
    assert read_all(follower) == log.written[3:]


def test_a_new_follower_starts_at_the_end(tmp_path: Path) -> None:
    log = Writer(tmp_path / "exim_mainlog")
    log.lines(5, partial=True)
    follower = Follower(log.path)
    assert read_all(follower) == []
    log.finish_line()
    assert read_all(follower) == log.written[5:]


def test_rename_and_create_reads_the_old_file_to_its_end(tmp_path: Path) -> None:
    log = Writer(tmp_path / "exim_mainlog")
    follower = Follower(log.path, from_start=True)
    log.lines(2)
    assert read_all(follower) == log.written
    log.lines(3)  # written before the rotation, not read yet
    log.rotate()
    log.lines(2)
    assert read_all(follower) == log.written[2:]
    assert follower.stats.rotations == 1


def test_copytruncate_reads_the_rest_from_the_copy(tmp_path: Path) -> None:
    log = Writer(tmp_path / "exim_mainlog")
    follower = Follower(log.path, from_start=True)
    log.lines(4)
    assert len(read_all(follower)) == 4
    log.lines(3)
    log.rotate(copy=True)
    log.lines(6)  # the truncated file grows past the old position again
    assert read_all(follower) == log.written[4:]
    assert follower.stats.truncations == 1


def test_resumed_after_a_rotation_while_stopped(tmp_path: Path) -> None:
    """The daemon down across two rotations, the first one compressed since."""
    log = Writer(tmp_path / "exim_mainlog")
    follower = Follower(log.path, from_start=True)
    log.lines(3)
    read_all(follower)
    stored = follower.position
    follower.close()
    log.lines(2)
    log.rotate(compress=True)
    log.lines(2)
    log.rotate()
    log.lines(1)
    resumed = Follower(log.path, stored)
    # the stored file's rest (compressed since), the file rotated after it, then the name
    assert read_all(resumed, polls=8) == log.written[3:]


def test_over_long_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "maillog"
    path.write_bytes(b"first\n" + b"x" * 5000 + b"\nsecond\n")
    follower = Follower(path, from_start=True, cap=1000, budget=1024)
    assert read_all(follower, polls=10) == [b"first", b"second"]
    assert follower.stats.skipped == 1


def test_a_missing_log_is_retried(tmp_path: Path) -> None:
    path = tmp_path / "maillog"
    follower = Follower(path, from_start=True)
    assert follower.poll() == [] and "no such file" in follower.stats.error
    path.write_bytes(b"hello\n")
    assert read_all(follower) == [b"hello"] and not follower.stats.error


def test_the_head_is_the_first_line() -> None:
    assert head_hash(b"partial") == ""
    assert head_hash(b"one\ntwo") == head_hash(b"one\nthree\n")
    assert head_hash(b"x" * 2000) == head_hash(b"x" * 1024 + b"y")


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("lines"), st.integers(1, 30), st.booleans()),
        st.tuples(st.just("poll"), st.just(False), st.just(False)),
        st.tuples(st.just("rotate"), st.booleans(), st.booleans()),
        st.tuples(st.just("stop"), st.just(False), st.just(False)),
        st.tuples(st.just("start"), st.just(False), st.just(False)),
    ),
    max_size=40,
)


class Reader:
    """The daemon's side: a follower that may be stopped and started from its stored
    position, as a restart does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.follower: Follower | None = Follower(path, from_start=True, budget=256)
        self.stored: Position | None = None
        self.read: list[bytes] = []
        self.poll()

    def poll(self) -> int:
        if self.follower is None:
            return 0
        chunks = self.follower.poll()
        for chunk in chunks:
            self.read += chunk.lines
            self.stored = chunk.position
        self.stored = self.follower.position or self.stored
        return len(chunks)

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.close()
            self.follower = None

    def start(self) -> None:
        if self.follower is None:
            first = self.stored is None
            self.follower = Follower(self.path, self.stored, from_start=first, budget=256)
            self.poll()


def rotate(log: Writer, reader: Reader, *, copy: bool, compress: bool) -> None:
    """A rotation the follower is expected to survive."""
    if copy:
        # copytruncate races any reader: lines written and cut away between two reads are
        # in the copy, which nothing identifies as the file the reader knew.  The daemon
        # reads many times a second; here it reads just before.
        if reader.follower is not None:
            reader.poll()
            log.rotate(copy=True, compress=compress)
        return
    # A file empty when the reader last read it is known by its inode alone, which
    # compressing changes (logrotate's delaycompress leaves the newest uncompressed); the
    # daemon, running, reads the file before it is rotated and compressed.
    if compress and reader.follower is not None:
        reader.poll()
    stopped_empty = reader.follower is None and not (reader.stored and reader.stored.head)
    log.rotate(compress=compress and not stopped_empty)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(OPS)
def test_nothing_lost_nothing_twice(tmp_path: Path, ops: list[tuple[str, bool, bool]]) -> None:
    """Writes, polls, rotations (renamed, or copied while the reader runs; compressed or
    not), stops and restarts from the stored position, in any order: what was read is what
    was written, in order."""
    root = tmp_path / str(len(list(tmp_path.iterdir())))
    root.mkdir()
    log = Writer(root / "exim_mainlog")
    reader = Reader(log.path)
    for op, a, b in ops:
        if op == "lines":
            log.lines(int(a) or 1, partial=b)
        elif op == "rotate":
            rotate(log, reader, copy=a, compress=b)
        else:
            {"poll": reader.poll, "stop": reader.stop, "start": reader.start}[op]()
    log.finish_line()
    reader.start()
    for _ in range(1000):
        follower = reader.follower
        if not reader.poll() and follower and not follower.pending and not follower.lag:
            break
    assert reader.read == log.written
