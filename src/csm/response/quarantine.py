"""Quarantine: a file moved out of a customer's reach with everything needed to put it back
exactly (original path as bytes, owner, group, mode, access and modification times, sha256),
and restore, which refuses to overwrite a file that appeared at that path since.

Moving is copy, fsync, verify, record, then remove the original: a failure at any step
leaves the original in place.  Nothing here deletes a customer's file any other way.

Both ways go through :mod:`csm.response.hostfile`: only files in an account's home or a
temporary directory, every directory reached without following a link, and the original's
removal and the restored file's creation done relative to the verified directory, so neither
can be steered outside by a link.  The quarantine directory is always 0700."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from csm import atomic
from csm.audit import AuditLog
from csm.clock import Clock
from csm.errors import CsmError, NotFoundError, RefusedError
from csm.host import Host
from csm.jsonio import path_fields
from csm.response import hostfile, repo
from csm.response.hostfile import Place
from csm.response.repo import Entry
from csm.store.db import Store

CHUNK = 1 << 20
PRIVATE = 0o700  # the quarantine directory's mode, whoever made it
RECREATE = "recreate the file's directory, then retry"


@dataclass(frozen=True, slots=True)
class Listed:
    """One quarantined file, for ``csm quarantine list``."""

    id: str
    path: str
    path_b64: str
    size: int
    sha256: str
    reason: str
    quarantined_at: datetime
    who: str
    restored_at: datetime | None


@dataclass
class Quarantine:
    host: Host
    store: Store
    audit: AuditLog
    clock: Clock
    directory: str  # paths.quarantine_dir (host path)
    home_dir: str = "/home"  # paths.home_dir (host path): the accounts' homes are below it

    def put(self, path: str, reason: str, who: str, finding: str = "") -> Listed:
        """Move the regular file at ``path`` (a host path) into the quarantine."""
        where = hostfile.place(path, self.home_dir)
        entry_id = "q_" + secrets.token_hex(6)
        with hostfile.directory(self.host.path("/"), where) as parent:
            descriptor, info = hostfile.open_regular(parent, where)
            try:
                digest = self._keep(descriptor, entry_id, where)
            finally:
                os.close(descriptor)
            entry = Entry(
                entry_id,
                where.path,
                info.st_size,
                digest,
                info.st_uid,
                info.st_gid,
                stat.S_IMODE(info.st_mode),
                info.st_atime_ns,
                info.st_mtime_ns,
                reason,
                finding,
                self.clock.now(),
                who,
                None,
            )
            with self.store.transaction() as conn:
                repo.add(conn, entry)
            self._remove_original(parent, where, info, entry_id)
        self.audit.record(
            who,
            "quarantine.put",
            entry_id,
            {**path_fields(entry.original), "sha256": digest, "reason": reason},
        )
        return _listed(entry)

    def list(self) -> list[Listed]:
        return [_listed(e) for e in repo.entries(self.store.conn)]

    def restore(self, entry_id: str, who: str) -> Listed:
        """Put the file back exactly: content, owner, group, mode and times."""
        entry = self._restorable(entry_id)
        where = hostfile.place(entry.original, self.home_dir)
        try:
            with hostfile.directory(self.host.path("/"), where) as parent:
                if hostfile.exists(parent, where.name):
                    raise _exists_again(where.path)
                _write_back(self._stored(entry_id), entry, parent, where.name)
        except NotFoundError as exc:  # its directory is gone
            raise CsmError(
                f"cannot restore {entry_id}: {exc.message}; it stays in the quarantine",
                fix=RECREATE,
            ) from None
        with self.store.transaction() as conn:
            repo.mark_restored(conn, entry_id, self.clock.now())
        os.unlink(self._stored(entry_id))
        self.audit.record(who, "quarantine.restore", entry_id, path_fields(entry.original))
        restored = repo.get(self.store.conn, entry_id)
        assert restored is not None
        return _listed(restored)

    def _keep(self, descriptor: int, entry_id: str, where: Place) -> str:
        """Copy the open original into the quarantine (fsynced); its sha256."""
        try:
            return _copy(descriptor, self._stored(entry_id))
        except OSError as exc:
            raise CsmError(
                f"cannot copy {where.shown} into the quarantine: {exc.strerror}; "
                "it stays where it was"
            ) from None

    def _remove_original(
        self, parent: int, where: Place, info: os.stat_result, entry_id: str
    ) -> None:
        """Remove the original (the file that was copied, in its verified directory); when it
        cannot be, forget the copy: the file stays where it was."""
        try:
            hostfile.unlink_same(parent, where, info)
        except (OSError, RefusedError) as exc:
            with self.store.transaction() as conn:
                repo.delete(conn, entry_id)
            os.unlink(self._stored(entry_id))
            why = exc.strerror if isinstance(exc, OSError) else exc.message
            raise CsmError(f"cannot remove {where.shown}: {why}; nothing was quarantined") from None
        with contextlib.suppress(OSError):  # removed, and kept: the rest is durability only
            os.fsync(parent)

    def _restorable(self, entry_id: str) -> Entry:
        entry = repo.get(self.store.conn, entry_id)
        if entry is None:
            raise NotFoundError(f"no quarantined file {entry_id!r}", fix="csm quarantine list")
        if entry.restored_at is not None:
            raise RefusedError(f"{entry_id} was already restored at {entry.restored_at}")
        return entry

    def _stored(self, entry_id: str) -> bytes:
        directory = self.host.path(self.directory)
        private_directory(directory)
        return os.fsencode(directory / entry_id)


def private_directory(directory: Path) -> None:
    """Make ``directory`` (and its missing parents); make it 0700 if it is looser."""
    directory.mkdir(mode=PRIVATE, parents=True, exist_ok=True)
    if stat.S_IMODE(directory.stat().st_mode) & ~PRIVATE:
        os.chmod(directory, PRIVATE)


def _copy(descriptor: int, target: bytes) -> str:
    """Copy the open file into ``target`` (0600; a temporary name, fsync, rename, the
    directory fsynced); the sha256 of what was written."""
    with atomic.replacing(Path(os.fsdecode(target))) as writer:
        digest = _pour(descriptor, writer.fileno())
    return digest


def _pour(source: int, target: int) -> str:
    """Everything from ``source`` to ``target``; its sha256."""
    digest = hashlib.sha256()
    while chunk := os.read(source, CHUNK):
        digest.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(target, view) :]
    return digest.hexdigest()


def _write_back(kept: bytes, entry: Entry, parent: int, name: bytes) -> None:
    """Write the kept copy as a new file in the verified directory, with the original's
    owner, mode and times, then give it its name: a hard link, which never replaces a file
    that appeared meanwhile."""
    temp = b".csm-restore-" + secrets.token_hex(8).encode()
    try:
        _write_restored(kept, entry, parent, temp)
        os.link(temp, name, src_dir_fd=parent, dst_dir_fd=parent, follow_symlinks=False)
    except OSError as exc:
        _discard(parent, temp)
        if exc.errno == errno.EEXIST:  # it appeared after the check: still not overwritten
            raise _exists_again(entry.original) from None
        raise CsmError(
            f"cannot restore {entry.id}: {exc.strerror}; it stays in the quarantine", fix=RECREATE
        ) from None
    except BaseException:
        _discard(parent, temp)
        raise
    with contextlib.suppress(OSError):  # restored: the temporary name is only a second link
        os.unlink(temp, dir_fd=parent)
        os.fsync(parent)


def _write_restored(kept: bytes, entry: Entry, parent: int, temp: bytes) -> None:
    descriptor = os.open(temp, hostfile.CREATE, 0o600, dir_fd=parent)
    try:
        with open(kept, "rb") as source:
            digest = _pour(source.fileno(), descriptor)
        if digest != entry.sha256:
            raise RefusedError(f"{entry.id}: the quarantined copy does not match its sha256")
        os.fsync(descriptor)
        os.fchown(descriptor, entry.uid, entry.gid)
        os.fchmod(descriptor, entry.mode)
        os.utime(descriptor, ns=(entry.atime_ns, entry.mtime_ns))
    finally:
        os.close(descriptor)


def _exists_again(path: bytes) -> RefusedError:
    return RefusedError(
        f"{hostfile.shown(path)} exists again: not overwritten",
        fix="move the new file aside first, then restore",
    )


def _discard(parent: int, name: bytes) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=parent)


def _listed(entry: Entry) -> Listed:
    where = path_fields(entry.original)
    return Listed(
        entry.id,
        where["path"],
        where.get("path_b64", ""),
        entry.size,
        entry.sha256,
        entry.reason,
        entry.quarantined_at,
        entry.who,
        entry.restored_at,
    )
