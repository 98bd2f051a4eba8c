"""The archive's members, staged as files in a private directory while the captures run, so
that a large capture (a busy mail log, a big home's file list) never has to fit in memory."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final

MANIFEST: Final = "manifest.txt"
_NAME: Final = re.compile(r"[A-Za-z0-9_@.+-]+(?:/[A-Za-z0-9_@.+-]+)*")


def checked_name(name: str) -> str:
    """A member name that is safe to extract: relative, plain characters, no ``.``/``..``."""
    parts = name.split("/")
    if not _NAME.fullmatch(name) or any(part in (".", "..") for part in parts):
        raise ValueError(f"unsafe archive member name: {name!r}")
    return name


class Staging:
    """Members by name, each in its own file under ``directory`` (private, the caller's)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[str, Path] = {}

    def write(self, name: str, data: bytes) -> None:
        with self.stream(name) as out:
            out.write(data)

    @contextmanager
    def stream(self, name: str) -> Iterator[BinaryIO]:
        """A new member, open for writing."""
        if checked_name(name) in self._files:
            raise ValueError(f"archive member {name!r} staged twice")
        path = self.directory / f"{len(self._files):06d}"
        self._files[name] = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(path, flags, 0o600), "wb") as out:
            yield out

    def members(self) -> list[tuple[str, Path]]:
        """(name, staged file) in archive order: by name, ``manifest.txt`` last."""
        ordered = sorted(self._files.items(), key=lambda item: (item[0] == MANIFEST, item[0]))
        return ordered
