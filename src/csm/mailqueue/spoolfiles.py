"""Where a queue's ``-H`` files are: the input directory, flat or split (one subdirectory per
id character).  Light on imports: ``csm queue count``'s fast path uses it before any
configuration library loads."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Final

# Exim's own file names: a legacy 6-6-2 or an Exim 4.97 6-11-4 id (base 62), then "-H".
HEADER_FILE: Final = re.compile(
    r"[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|[0-9A-Za-z]{11}-[0-9A-Za-z]{4})-H"
)


# O_NONBLOCK: a pipe named like a spool file would otherwise hold the reader forever.
_READ: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK: Final = 1 << 16


class NotRegularFileError(OSError):
    """A spool file's name on something else: a pipe, a device, a directory or a link."""


def read(path: str | Path) -> bytes:
    """A spool file's bytes; only a regular file is read (a link is not followed), anything
    else is a :class:`NotRegularFileError`; FileNotFoundError when it is gone."""
    try:
        descriptor = os.open(path, _READ)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFileError(f"{path}: a symbolic link, not followed") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotRegularFileError(f"{path}: not a regular file (a pipe or a device?)")
        chunks = []
        while chunk := os.read(descriptor, _CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


BODY_SHOWN_MAX: Final = 256 * 1024


def body(data_file: bytes) -> tuple[str, bool]:
    """A ``-D`` file's body as text (its first line is the file's own name), at most
    ``BODY_SHOWN_MAX`` bytes of it, and whether it was cut."""
    data = data_file.partition(b"\n")[2]
    return data[:BODY_SHOWN_MAX].decode("utf-8", "replace"), len(data) > BODY_SHOWN_MAX


def header_files(input_dir: Path) -> Iterator[tuple[str, str]]:
    """(message id, path) of every ``-H`` file; OSError when the spool cannot be read.  Paths
    are strings: tens of thousands of them are read at once."""
    with os.scandir(input_dir) as top:
        for entry in top:
            if entry.is_dir(follow_symlinks=False) and len(entry.name) == 1:
                yield from _in(entry.path)
            elif _header_name(entry.name):
                yield entry.name[:-2], entry.path


def count(input_dir: Path) -> int:
    """How many messages are queued (``-H`` files): names only, nothing opened or stat'ed."""
    total = 0
    with os.scandir(input_dir) as top:
        for entry in top:
            if entry.is_dir(follow_symlinks=False) and len(entry.name) == 1:
                total += sum(1 for name in os.listdir(entry.path) if HEADER_FILE.fullmatch(name))
            elif HEADER_FILE.fullmatch(entry.name):
                total += 1
    return total


def places(input_dir: Path, msgid: str) -> tuple[Path, ...]:
    """Where a message's -H file is: the split spool's subdirectory (its id's 6th character),
    or the flat input directory."""
    return (input_dir / msgid[5] / f"{msgid}-H", input_dir / f"{msgid}-H")


def _in(directory: str) -> Iterator[tuple[str, str]]:
    with os.scandir(directory) as entries:
        for entry in entries:
            if _header_name(entry.name):
                yield entry.name[:-2], entry.path


def _header_name(name: str) -> bool:
    return HEADER_FILE.fullmatch(name) is not None
