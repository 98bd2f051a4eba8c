"""Files that appear whole or not at all: written to a temporary file beside the target (the
same filesystem), fsynced, put in place, and the directory fsynced; on failure the temporary
file is removed and the target is as it was.  The one way CSM writes a file: streamed
(:func:`replacing`) or in one call (:func:`write_bytes`), with the file's mode and, optionally,
its owner set on the temporary file before the rename.  :class:`Digesting` hashes and counts
what is written through it (an archive's sha256 and size without reading it back).

What a write may replace is the caller's choice: anything (``"any"``), nothing (``"nothing"``:
the file is hard-linked into place, which fails if anything appeared there meanwhile), or only
a regular file (``"regular"``: checked with ``lstat`` right before the rename).

Temporary files and working directories are named ``<prefix><pid>-…`` (0600 files, 0700
directories) and locked (``flock``) while their writer uses them; :func:`sweep` removes those
a killed writer left behind (its pid no longer runs and nobody holds the lock)."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final, Literal, overload

from csm.errors import RefusedError

Replaces = Literal["any", "nothing", "regular"]
Owner = tuple[int, int]  # (uid, gid)
PRIVATE: Final = 0o600
REGULAR: Final = "a regular file"
# Where a filesystem has no hard links, "nothing" falls back to a check right before a rename.
_NO_LINKS: Final = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP})
_KINDS: Final = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISREG, REGULAR),
)


@contextmanager
def replacing(
    target: Path,
    prefix: str = ".csm-",
    *,
    replaces: Replaces = "any",
    mode: int = PRIVATE,
    owner: Owner | None = None,
) -> Iterator[BinaryIO]:
    """A new file to write; it takes the place of ``target`` when the block ends without
    error, with ``mode`` (0600 unless told) and ``owner`` (``(uid, gid)``; unchanged when None).
    FileExistsError when ``target`` is something ``replaces`` does not allow."""
    descriptor, temporary = tempfile.mkstemp(prefix=owned(prefix), suffix=".tmp", dir=target.parent)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
            stream.flush()
            _settle(stream.fileno(), mode, owner)
            os.fsync(stream.fileno())
        _install(Path(temporary), target, replaces)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_directory(target.parent)


@overload
def write_bytes(
    target: Path,
    data: bytes,
    *,
    mode: int = ...,
    owner: Owner | None = ...,
    sha256: Literal[False] = ...,
    prefix: str = ...,
    replaces: Replaces = ...,
) -> None: ...
@overload
def write_bytes(
    target: Path,
    data: bytes,
    *,
    mode: int = ...,
    owner: Owner | None = ...,
    sha256: Literal[True],
    prefix: str = ...,
    replaces: Replaces = ...,
) -> str: ...
def write_bytes(  # noqa: PLR0913 - the options of one write, all keyword-only
    target: Path,
    data: bytes,
    *,
    mode: int = PRIVATE,
    owner: Owner | None = None,
    sha256: bool = False,
    prefix: str = ".csm-",
    replaces: Replaces = "any",
) -> str | None:
    """Put ``data`` at ``target`` whole (see :func:`replacing`); its sha256 (hex) when asked."""
    with replacing(target, prefix, replaces=replaces, mode=mode, owner=owner) as stream:
        stream.write(data)
    return hashlib.sha256(data).hexdigest() if sha256 else None


@contextmanager
def scratch(parent: Path, prefix: str) -> Iterator[Path]:
    """A private (0700) working directory in ``parent``, locked while in use, removed after."""
    path = Path(tempfile.mkdtemp(prefix=owned(prefix), dir=parent))
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(descriptor)


def owned(prefix: str) -> str:
    """The name prefix of this process's temporaries: ``<prefix><pid>-``."""
    return f"{prefix}{os.getpid()}-"


def sweep(directory: Path, prefix: str) -> list[Path]:
    """Remove the temporaries (``<prefix><pid>-…``) in ``directory`` whose writer is gone: its
    pid runs no more and nobody holds their lock.  What was removed; best effort."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)-")
    try:
        entries = [e for e in os.scandir(directory) if pattern.match(e.name)]
    except OSError:
        return []
    removed = []
    for entry in entries:
        found = pattern.match(entry.name)
        if found and not running(int(found[1])) and _remove_unlocked(Path(entry.path)):
            removed.append(Path(entry.path))
    return removed


def running(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as someone else
        return True
    return True


def occupant(path: Path) -> str | None:
    """What is at ``path``, not following a symlink (``"a regular file"``, ``"a FIFO"``…);
    None when nothing is."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")


def refuse_occupied(path: Path, *, force: bool, what: str = "file") -> None:
    """Refuse to write ``path`` unless nothing is there, or a regular file and ``force``."""
    kind = occupant(path)
    if kind is None or (kind == REGULAR and force):
        return
    if kind == REGULAR:
        raise RefusedError(
            f"{what} {path} already exists; refusing to replace it",
            fix="choose a new file name, or pass --force to replace it",
        )
    raise RefusedError(
        f"{what} {path} is {kind}, not a regular file; refusing to write over it",
        fix="choose a new file name",
    )


def sync_directory(directory: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _settle(descriptor: int, mode: int, owner: Owner | None) -> None:
    """The owner first (a chown may clear set-id bits), then the mode."""
    if owner is not None:
        os.fchown(descriptor, *owner)
    os.fchmod(descriptor, mode)


def _install(temporary: Path, target: Path, replaces: Replaces) -> None:
    if replaces == "nothing":
        try:
            os.link(temporary, target, follow_symlinks=False)  # EEXIST: never replaced
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
        else:
            temporary.unlink()
            return
    if replaces != "any":
        kind = occupant(target)
        if kind is not None and (replaces == "nothing" or kind != REGULAR):
            raise FileExistsError(errno.EEXIST, f"{target} is {kind}", str(target))
    os.replace(temporary, target)


def _remove_unlocked(path: Path) -> bool:
    """Remove a temporary (a file or a directory, never followed) unless its lock is held;
    anything else by that name (a symlink, a FIFO) is not CSM's and is left alone."""
    try:
        info = path.lstat()
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            return False
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:  # held: its writer is alive (in another pid namespace, say)
        return False
    finally:
        os.close(descriptor)
    return True


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
