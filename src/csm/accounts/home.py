"""Walking an account's home the way every check does: the private top-level directories
(``csm-go-facts.md`` §3.6) and top-level dotfiles are skipped, symlinks are never followed,
names are bytes (they need not be UTF-8), and each directory is read in name order."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

PRIVATE_TOP = frozenset(
    {
        ".cagefs",
        ".cpanel",
        ".spamassassin",
        ".trash",
        "access-logs",
        "etc",
        "homedir",
        "logs",
        "lscache",
        "mail",
        "ssl",
        "tmp",
    }
)
_PRIVATE = frozenset(name.encode() for name in PRIVATE_TOP)


@dataclass
class Walk:
    """One walk's choices and what it could not read."""

    max_depth: int = 64  # directories below the home
    wanted: Callable[[bytes], bool] = lambda name: True  # which file names to yield
    skipped: list[bytes] = field(default_factory=list)  # private top-level entries
    errors: list[str] = field(default_factory=list)  # what could not be read, and why

    def files(self, home: bytes) -> Iterator[bytes]:
        """Regular files under ``home`` (a real path), as bytes paths."""
        for entry in self._entries(home):
            if entry.name in _PRIVATE or entry.name.startswith(b"."):
                self.skipped.append(entry.path)
            else:
                yield from self._walk(entry, 1)

    def _walk(self, entry: os.DirEntry[bytes], depth: int) -> Iterator[bytes]:
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            self.errors.append(f"{os.fsdecode(entry.path)}: {exc.strerror}")
            return
        if stat.S_ISREG(mode):
            if self.wanted(entry.name):
                yield entry.path
        elif stat.S_ISDIR(mode) and depth <= self.max_depth:
            for child in self._entries(entry.path):
                yield from self._walk(child, depth + 1)

    def _entries(self, directory: bytes) -> list[os.DirEntry[bytes]]:
        try:
            return sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            self.errors.append(f"{os.fsdecode(directory)}: {exc.strerror}")
            return []
