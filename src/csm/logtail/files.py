"""Log files as line sources: plain or gzip, rotated sets read oldest first."""

from __future__ import annotations

import glob
import gzip
import io
import os
import re
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from csm.errors import UnreadableInputError

GZIP_MAGIC = b"\x1f\x8b"
_NUMBERED = re.compile(r"\.(\d+)(\.gz)?$")
_DATED = re.compile(r"-(\d{8})(\.gz)?$")
_ROTATED = re.compile(r"(?:\.\d+|-\d{8})(?:\.gz)?")  # what rotation appends to a log's name
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class LogFile:
    path: Path
    size: int
    year: int  # for syslog lines, which carry no year: the year the file was last written


def ordered(paths: list[Path]) -> list[LogFile]:
    """The files oldest first: ``x.3.gz, x.2.gz, x.1, x`` and ``x-20260101.gz, x-20260102, x``."""
    found = []
    for path in paths:
        try:
            info = path.stat()
        except FileNotFoundError:
            raise UnreadableInputError(f"no such log file: {path}") from None
        year = datetime.fromtimestamp(info.st_mtime, UTC).year
        found.append(LogFile(path, info.st_size, year))
    return sorted(found, key=_age_key)


def rotated_set(path: Path) -> list[Path]:
    """``path`` and its rotated siblings (``x.1``, ``x.2.gz``, ``x-20261120``, ``x-20261120.gz``)
    that are regular files, oldest first (as :func:`ordered`); the name is matched literally,
    glob characters and all (``mail[1].log``).  Empty when there is none."""
    found = [
        p
        for p in path.parent.glob(glob.escape(path.name) + "*")
        if _rotation_of(p.name, path.name) and p.is_file()
    ]
    return sorted(found, key=lambda p: _name_key(p.name))


def _rotation_of(name: str, log: str) -> bool:
    suffix = name[len(log) :]
    return not suffix or _ROTATED.fullmatch(suffix) is not None


def _age_key(log: LogFile) -> tuple[str, int, str]:
    return _name_key(log.path.name)


def _name_key(name: str) -> tuple[str, int, str]:
    numbered = _NUMBERED.search(name)
    if numbered:
        return (name[: numbered.start()], -int(numbered.group(1)), "")
    dated = _DATED.search(name)
    if dated:
        return (name[: dated.start()], 0, dated.group(1))
    return (name, 1, "")


def lines(log: LogFile) -> Iterator[bytes]:
    """Every line of the file as bytes (a gzip file is read through, by its magic bytes)."""
    with _reading(log.path), opened(log) as stream:
        yield from stream


def batches(log: LogFile, size: int) -> Iterator[list[bytes]]:
    """The file's lines in batches of about ``size`` bytes, without their ``\\n`` (a ``\\r``
    before it stays): one split of a large read makes them, which is faster than reading
    line by line, and keeps the parsers from copying lines to strip them."""
    with _reading(log.path), opened(log) as stream:
        tail = b""
        while chunk := stream.read1(size):  # a damaged .gz yields what precedes the damage
            batch = chunk.split(b"\n")
            batch[0] = tail + batch[0]
            tail = batch.pop()  # the start of a line the next read completes
            if len(tail) > size:  # no log line is this long: cut it, its pieces are junk
                batch.append(tail)
                tail = b""
            if batch:
                yield batch
        if tail:
            yield [tail]


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Read errors as :class:`UnreadableInputError`: a damaged or truncated ``.gz``, a file
    that cannot be read."""
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise UnreadableInputError(f"{path}: damaged or truncated gzip data ({exc})") from None
    except OSError as exc:
        raise UnreadableInputError(f"{path}: {exc.strerror or exc}") from None


def opened(log: LogFile) -> io.BufferedIOBase:
    """The file open for reading its lines, plain or gzip (by its magic bytes)."""
    return _open(log.path)


def _open(path: Path) -> io.BufferedIOBase:
    raw = io.BufferedReader(io.FileIO(regular_descriptor(path), "rb"), CHUNK)
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return _Gunzipped(raw)  # the file opened and checked, not its name opened again
    raw.seek(0)
    return raw


def regular_descriptor(path: Path) -> int:
    """A descriptor of ``path`` open for reading, when it is a regular file (a link to one
    is followed); anything else is an :class:`UnreadableInputError`: opening a pipe would
    wait for a writer forever (hence O_NONBLOCK, which a regular file ignores)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise UnreadableInputError(
                f"{path}: not a regular file (a pipe, a device or a directory is not read)"
            )
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


class _Gunzipped(gzip.GzipFile):
    """A gzip file read from an open file, which it closes with itself."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()
