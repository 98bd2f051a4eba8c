"""Files that appear whole or not at all: written to a temporary file beside the target (the
same filesystem), fsynced, renamed over the target, and the directory fsynced; on failure the
temporary file is removed and the target is as it was.  :class:`Digesting` hashes and counts
what is written through it (an archive's sha256 and size without reading it back)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replacing(target: Path, prefix: str = ".csm-") -> Iterator[BinaryIO]:
    """A new 0600 file to write; it replaces ``target`` when the block ends without error."""
    descriptor, temporary = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_directory(target.parent)


def sync_directory(directory: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Digesting:
    """A write-only stream that passes everything to ``raw``, hashing (sha256) and counting it:
    an archive's checksum and size without reading it back."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.hash, self.size = raw, hashlib.sha256(), 0

    def write(self, data: bytes, /) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()
