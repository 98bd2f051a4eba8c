"""A customer's file on the host, reached the way the quarantine must reach it: every
directory from the host root down opened by its name in its parent's descriptor, with
``O_NOFOLLOW``, so a symbolic link anywhere on the way (a directory of the customer's swapped
for a link to ``/etc``) is refused, never followed; and the file itself named, opened, removed
and created relative to the descriptor of its verified directory, so a directory swapped after
the check cannot redirect the act.

Only files in a hosting account's home (``<paths.home_dir>/<account>/…``) or in a temporary
directory (``/tmp/``, ``/var/tmp/``, ``/dev/shm/``) are places: the comparison is by whole path
components, so ``/homeX/…`` is no home, and a ``..`` component is refused outright."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from csm.errors import CsmError, NotFoundError, RefusedError, UsageError
from csm.identifiers import ACCOUNT

TEMPORARY: Final = ((b"tmp",), (b"var", b"tmp"), (b"dev", b"shm"))
# Directories of cPanel's under /home that are no account's home: virtfs holds the jailed
# shells' bind mounts of the system's own directories (/usr, /etc, …).
NOT_ACCOUNTS: Final = frozenset({b"virtfs"})
DIRECTORY: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a pipe would wait for a writer forever; it is refused after fstat.
READ: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
CREATE: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
OUTSIDE_FIX: Final = "quarantine only customer and temporary files; system files are not moved"


@dataclass(frozen=True, slots=True)
class Place:
    """A file's host path as checked components: its directories from the root, and its name."""

    directories: tuple[bytes, ...]
    name: bytes

    @property
    def path(self) -> bytes:
        """The host path, normalised (no empty or ``.`` components)."""
        return b"/" + b"/".join((*self.directories, self.name))

    @property
    def shown(self) -> str:
        return shown(self.path)


def shown(path: bytes) -> str:
    """A path for a message (names need not be UTF-8)."""
    return path.decode("utf-8", "replace")


def place(host_path: str | bytes, home_dir: str) -> Place:
    """The checked place of ``host_path``; UsageError when it is not an absolute path,
    RefusedError when it is not in an account's home or a temporary directory."""
    raw = os.fsencode(host_path)
    if not raw.startswith(b"/") or b"\x00" in raw:
        raise UsageError(f"give the file's absolute host path, not {shown(raw)!r}")
    parts = tuple(p for p in raw.split(b"/") if p not in (b"", b"."))
    if b".." in parts or not _allowed(parts, _parts(home_dir)):
        raise RefusedError(
            f"{shown(raw)} is not in a hosting account's home or a temporary directory",
            fix=OUTSIDE_FIX,
        )
    return Place(parts[:-1], parts[-1])


def _parts(path: str) -> tuple[bytes, ...]:
    return tuple(p for p in os.fsencode(path).split(b"/") if p not in (b"", b"."))


def _allowed(parts: tuple[bytes, ...], home: tuple[bytes, ...]) -> bool:
    """In an account's home (a file below ``<home>/<account>/``) or a temporary directory."""
    if home and b".." not in home and parts[: len(home)] == home and len(parts) > len(home) + 1:
        return _account(parts[len(home)])
    return any(parts[: len(t)] == t and len(parts) > len(t) for t in TEMPORARY)


def _account(name: bytes) -> bool:
    text = name.decode("utf-8", "replace")
    return name not in NOT_ACCOUNTS and ACCOUNT.fullmatch(text) is not None and name[:1] != b"-"


@contextmanager
def directory(root: Path, where: Place) -> Iterator[int]:
    """A descriptor of the place's directory, reached from ``root`` one component at a time
    without following a link; RefusedError for a link or a non-directory on the way,
    NotFoundError when a directory is missing."""
    current = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for depth, name in enumerate(where.directories):
            below = _step(current, name, where.directories[: depth + 1])
            os.close(current)
            current = below
        yield current
    finally:
        os.close(current)


def _step(parent: int, name: bytes, walked: tuple[bytes, ...]) -> int:
    try:
        return os.open(name, DIRECTORY, dir_fd=parent)
    except OSError as exc:
        raise _refusal(parent, name, b"/" + b"/".join(walked), exc) from None


def _refusal(parent: int, name: bytes, path: bytes, exc: OSError) -> CsmError:
    """Why a directory on the way could not be opened, as the error to report."""
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return NotFoundError(f"no such directory: {shown(path)}")
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode):
        return RefusedError(
            f"{shown(path)} is a symbolic link: links are not followed", fix=OUTSIDE_FIX
        )
    if mode and not stat.S_ISDIR(mode):
        return RefusedError(f"{shown(path)} is not a directory")
    return CsmError(f"cannot open {shown(path)}: {exc.strerror}")


def open_regular(parent: int, where: Place) -> tuple[int, os.stat_result]:
    """The place's file open for reading, and its status; only a regular file, never a link."""
    try:
        descriptor = os.open(where.name, READ, dir_fd=parent)
    except FileNotFoundError:
        raise NotFoundError(f"no such file: {where.shown}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _not_regular(where) from None
        raise CsmError(f"cannot open {where.shown}: {exc.strerror}") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise _not_regular(where)
    return descriptor, info


def _not_regular(where: Place) -> RefusedError:
    return RefusedError(f"{where.shown} is not a regular file (links are not followed)")


def exists(parent: int, name: bytes) -> bool:
    """Whether anything (a link included) is named ``name`` in the directory."""
    try:
        os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def unlink_same(parent: int, where: Place, was: os.stat_result) -> None:
    """Remove the place's file if it is still the file ``was`` describes (same device and
    inode); RefusedError when another file took its name meanwhile (nothing is removed)."""
    now = os.stat(where.name, dir_fd=parent, follow_symlinks=False)
    if (now.st_dev, now.st_ino) != (was.st_dev, was.st_ino):
        raise RefusedError(f"{where.shown} was replaced while being quarantined")
    os.unlink(where.name, dir_fd=parent)
