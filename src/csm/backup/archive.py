"""Writing a backup: a gzip'd tar of ``csm.yaml``, ``conf.d/`` and ``state/`` (the layout of
``csm-go-facts.md`` §3.4), with ``manifest.txt`` last.

Unlike the Go CSM, it works while the daemon runs: ``state/csm.db`` is a consistent copy made
with SQLite's online backup API (and checked with ``PRAGMA integrity_check``), not the live
file; the store's ``-wal``/``-shm`` files, the lock and caches are left out.  Every other state
file is written by rename, so it is read whole.  Entries are 0600 (directories 0700), owned by
root; the archive is written to a temporary file beside the output (``.csm-backup-<pid>-….tmp``,
0600, beside a 0700 scratch directory for the store copy), fsynced, put in place (never over
anything unless ``replace``, and then only over a regular file), and the directory fsynced.
The temporaries a killed backup left in that directory are removed first.  A state or drop-in
file whose name is not plain UTF-8 (:func:`csm.backup.manifest.plain_name`) refuses the backup:
a restore would refuse it."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sqlite3
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Final
from urllib.parse import quote

from csm import atomic
from csm.backup import manifest
from csm.backup.manifest import FileSum
from csm.errors import RefusedError, StoreError
from csm.mailqueue.index import NAME as QUEUE_INDEX
from csm.store.db import DB_NAME
from csm.store.lock import LOCK_NAME

# Left out of state/: the lock, the live store and its journals (the consistent copy stands in
# for them), caches that rebuild themselves, and temporary files.
LEFT_OUT: Final = frozenset(
    {LOCK_NAME, DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal", QUEUE_INDEX}
)
TEMP_PREFIX: Final = ".csm-backup-"


@dataclass(frozen=True, slots=True)
class Layout:
    """What a backup holds, where it lives on this machine."""

    config: Path  # csm.yaml
    dropins: Path  # conf.d
    state: Path  # the state directory


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    size: int
    sha256: str
    created_at: datetime
    files: tuple[FileSum, ...]


@dataclass(frozen=True, slots=True)
class _Source:
    name: str  # the member's name
    path: Path | None  # None for a directory entry


def write(
    layout: Layout, out: Path, created: datetime, version: str, *, replace: bool = False
) -> Written:
    """Write the backup to ``out`` atomically; the caller has checked ``out``.  Replaces a
    regular file only when ``replace``; FileExistsError when something else is (or appeared)
    there."""
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic.sweep(out.parent, TEMP_PREFIX)
    with atomic.scratch(out.parent, TEMP_PREFIX) as scratch:
        sources = list(_sources(layout, scratch))
        replaces: atomic.Replaces = "regular" if replace else "nothing"
        with atomic.replacing(out, TEMP_PREFIX, replaces=replaces) as stream:
            digest = atomic.Digesting(stream)
            files = _tar(digest, sources, created, version)
    return Written(out, digest.size, digest.hash.hexdigest(), created, tuple(files))


def file_sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _sources(layout: Layout, scratch: Path) -> Iterator[_Source]:
    if _regular(layout.config, follow=True):
        yield _Source("csm.yaml", layout.config)
    if layout.dropins.is_dir():
        yield _Source("conf.d", None)
        yield from _tree(layout.dropins, "conf.d", frozenset())
    if layout.state.is_dir():
        yield _Source("state", None)
        copy = store_copy(layout.state / DB_NAME, scratch / DB_NAME)
        if copy is not None:
            yield _Source(f"state/{DB_NAME}", copy)
        yield from _tree(layout.state, "state", LEFT_OUT)


def store_copy(live: Path, into: Path) -> Path | None:
    """A consistent copy of the live store (SQLite's online backup), integrity-checked; None
    when there is no store."""
    if not _regular(live, follow=False):
        return None
    # The copy is private (0600); the live store is opened as a writer would (mode=rw, never
    # created), so that, closed last, it leaves no -wal or -shm behind.
    os.close(os.open(into, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    try:
        source = sqlite3.connect(f"file:{quote(str(live))}?mode=rw", uri=True, timeout=30)
        target = sqlite3.connect(into)
        try:
            source.backup(target)
            verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
            source.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot copy the state store {live}: {exc}") from None
    if verdict != "ok":
        raise StoreError(f"the copy of the state store {live} fails its integrity check: {verdict}")
    return into


def _tree(top: Path, prefix: str, left_out: frozenset[str]) -> Iterator[_Source]:
    """Directories and regular files below ``top`` in name order; symlinks, special files,
    temporary files and ``left_out`` top-level names skipped."""
    for entry in sorted(os.scandir(top), key=lambda e: e.name):
        if (prefix == "state" and entry.name in left_out) or entry.name.endswith(".tmp"):
            continue
        name = f"{prefix}/{entry.name}"
        if not manifest.plain_name(name):
            raise RefusedError(
                f"cannot back up {entry.path!r}: its name is not UTF-8 or holds a control"
                " character (a restore would refuse it)",
                fix="rename or remove that file, then back up again",
            )
        if entry.is_dir(follow_symlinks=False):
            yield _Source(name, None)
            yield from _tree(Path(entry.path), name, left_out)
        elif entry.is_file(follow_symlinks=False):
            yield _Source(name, Path(entry.path))


def _regular(path: Path, *, follow: bool) -> bool:
    try:
        return stat.S_ISREG(path.stat(follow_symlinks=follow).st_mode)
    except OSError:
        return False


def _tar(
    stream: atomic.Digesting, sources: list[_Source], created: datetime, version: str
) -> list[FileSum]:
    stamp = int(created.timestamp())
    files: list[FileSum] = []
    with (
        gzip.GzipFile(fileobj=stream, mode="wb", mtime=stamp) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for source in sources:
            if source.path is None:
                tar.addfile(_info(source.name, tarfile.DIRTYPE, 0, stamp))
            else:
                files.append(_add_file(tar, source.name, source.path))
        body = manifest.render(created, version, files)
        info = _info(manifest.NAME, tarfile.REGTYPE, len(body), stamp)
        tar.addfile(info, io.BytesIO(body))
    return files


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> FileSum:
    with path.open("rb") as stream:
        info = os.fstat(stream.fileno())
        hashing = _Hashing(stream)
        tar.addfile(_info(name, tarfile.REGTYPE, info.st_size, int(info.st_mtime)), hashing)
    return FileSum(name, info.st_size, hashing.digest.hexdigest())


def _info(name: str, kind: bytes, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mtime = kind, size, mtime
    info.mode = 0o700 if kind == tarfile.DIRTYPE else 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


class _Hashing:
    """A file read by tarfile, hashed on the way."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.digest = stream, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk
