"""Log files read in batches: every line once, in order, without its line end, plain or gzip."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm.errors import UnreadableInputError
from csm.logtail import files
from tests.pipes import returns

LINE = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b""))


def read(path: Path, size: int) -> list[list[bytes]]:
    (log,) = files.ordered([path])
    return list(files.batches(log, size))


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(LINE, max_size=30), newline_at_end=st.booleans(), size=st.integers(1, 64))
def test_batches_hold_every_line_in_order(
    tmp_path_factory: object, lines: list[bytes], newline_at_end: bool, size: int
) -> None:
    path = Path(str(tmp_path_factory.mktemp("log"))) / "exim_mainlog"  # type: ignore[attr-defined]
    content = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
    path.write_bytes(content)
    if content.startswith(files.GZIP_MAGIC):  # taken for gzip, which it is not: a clear error
        with pytest.raises(UnreadableInputError, match="damaged or truncated gzip"):
            read(path, size)
        return
    batches = read(path, size)
    got = [line for batch in batches for line in batch]
    if all(len(line) <= size for line in lines):
        expected = content.split(b"\n")
        if content.endswith(b"\n") or not content:
            expected.pop()  # what follows the last line end is no line
        assert got == expected
    assert all(b"\n" not in line for line in got)
    assert all(batch for batch in batches)  # no empty batch
    assert b"".join(got) == content.replace(b"\n", b"")  # a cut line keeps all its bytes


def test_a_line_longer_than_a_batch_is_cut_not_held(tmp_path: Path) -> None:
    path = tmp_path / "exim_mainlog"
    path.write_bytes(b"x" * 100 + b"\nshort\n")
    got = [line for batch in read(path, 16) for line in batch]
    assert got[-1] == b"short"
    assert all(len(line) <= 2 * 16 for line in got)


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "exim_mainlog"
    path.write_bytes(b"line\n")
    (log,) = files.ordered([path])
    path.chmod(0)
    path.unlink()
    path.mkdir()  # now a directory: reading it fails
    with pytest.raises(UnreadableInputError, match="exim_mainlog"):
        list(files.batches(log, 16))


def test_gzip_files_are_read_through(tmp_path: Path) -> None:
    path = tmp_path / "exim_mainlog.1.gz"
    path.write_bytes(gzip.compress(b"one\r\ntwo\nthree"))
    assert [line for batch in read(path, 4) for line in batch] == [b"one\r", b"two", b"three"]


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    """A pipe would block the reader forever: it is refused when opened, as a directory is."""
    pipe = tmp_path / "exim_mainlog"
    os.mkfifo(pipe)
    (log,) = files.ordered([pipe])
    with pytest.raises(UnreadableInputError, match="not a regular file"):
        returns(lambda: list(files.batches(log, 16)), pipe)
    with pytest.raises(UnreadableInputError, match="not a regular file"):
        returns(lambda: list(files.lines(log)), pipe)


def test_a_gzip_file_is_read_through_one_descriptor_closed_at_the_end(tmp_path: Path) -> None:
    """The file opened and checked is the one decompressed (its name is not opened again),
    and closing the stream closes it: no descriptor is left behind."""
    path = tmp_path / "exim_mainlog.2.gz"
    path.write_bytes(gzip.compress(b"one\ntwo\n"))
    (log,) = files.ordered([path])
    before = set(os.listdir("/proc/self/fd"))
    with files.opened(log) as stream:
        path.unlink()
        os.mkfifo(path)  # the name swapped for a pipe after the check: never opened
        assert stream.read() == b"one\ntwo\n"
    assert set(os.listdir("/proc/self/fd")) == before
