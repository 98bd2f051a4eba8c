"""Quarantine: a file moved out of a customer's reach with everything needed to put it back
exactly (original path as bytes, owner, group, mode, access and modification times, sha256),
and restore, which refuses to overwrite a file that appeared at that path since.

Moving is copy, fsync, verify, record, then remove the original: a failure at any step
leaves the original in place.  Nothing here deletes a customer's file any other way."""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime

from csm.audit import AuditLog
from csm.clock import Clock
from csm.errors import CsmError, NotFoundError, RefusedError, UsageError
from csm.host import Host
from csm.jsonio import path_fields
from csm.response import repo
from csm.response.repo import Entry
from csm.store.db import Store

CHUNK = 1 << 20
QUARANTINABLE = ("/home", "/tmp/", "/var/tmp/", "/dev/shm/")  # noqa: S108 - where malware sits


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

    def put(self, path: str, reason: str, who: str, finding: str = "") -> Listed:
        """Move the regular file at ``path`` (a host path) into the quarantine."""
        if not path.startswith("/"):
            raise UsageError(f"give the file's absolute host path, not {path!r}")
        if not path.startswith(QUARANTINABLE) or "/../" in path:
            raise RefusedError(
                f"{path} is not in a hosting account's home or a temporary directory",
                fix="quarantine only customer and temporary files; system files are not moved",
            )
        original = os.fsencode(self.host.path(path))
        info = _regular(original)
        entry_id = "q_" + secrets.token_hex(6)
        kept = self._stored(entry_id)
        try:
            digest = _copy(original, kept, 0o600)
        except OSError as exc:
            raise CsmError(f"cannot copy {path} into the quarantine: {exc.strerror}; "
                           "it stays where it was") from None  # fmt: skip
        entry = Entry(entry_id, os.fsencode(path), info.st_size, digest, info.st_uid, info.st_gid,
                      stat.S_IMODE(info.st_mode), info.st_atime_ns, info.st_mtime_ns, reason,
                      finding, self.clock.now(), who, None)  # fmt: skip
        with self.store.transaction() as conn:
            repo.add(conn, entry)
        try:
            os.unlink(original)
        except OSError as exc:
            with self.store.transaction() as conn:
                repo.delete(conn, entry_id)
            os.unlink(kept)
            raise CsmError(f"cannot remove {path}: {exc.strerror}; it stays where it was") from None
        self.audit.record(who, "quarantine.put", entry_id, {**path_fields(entry.original),
                          "sha256": digest, "reason": reason})  # fmt: skip
        return _listed(entry)

    def list(self) -> list[Listed]:
        return [_listed(e) for e in repo.entries(self.store.conn)]

    def restore(self, entry_id: str, who: str) -> Listed:
        """Put the file back exactly: content, owner, group, mode and times."""
        entry = repo.get(self.store.conn, entry_id)
        if entry is None:
            raise NotFoundError(f"no quarantined file {entry_id!r}", fix="csm quarantine list")
        if entry.restored_at is not None:
            raise RefusedError(f"{entry_id} was already restored at {entry.restored_at}")
        target = os.fsencode(self.host.path(os.fsdecode(entry.original)))
        if os.path.lexists(target):
            raise RefusedError(
                f"{path_fields(entry.original)['path']} exists again: not overwritten",
                fix="move the new file aside first, then restore",
            )
        kept = self._stored(entry_id)
        if _sha256(kept) != entry.sha256:
            raise RefusedError(f"{entry_id}: the quarantined copy does not match its sha256")
        temp = target + b".csm-restore-" + secrets.token_hex(4).encode()
        try:
            _copy(kept, temp, entry.mode)
            os.chown(temp, entry.uid, entry.gid)
            os.chmod(temp, entry.mode)
            os.utime(temp, ns=(entry.atime_ns, entry.mtime_ns))
            os.rename(temp, target)
        except OSError as exc:
            if os.path.lexists(temp):
                os.unlink(temp)
            message = f"cannot restore {entry_id}: {exc.strerror}; it stays in the quarantine"
            fix = "recreate the file's directory, then retry"
            raise CsmError(message, fix=fix) from None
        with self.store.transaction() as conn:
            repo.mark_restored(conn, entry_id, self.clock.now())
        os.unlink(kept)
        self.audit.record(who, "quarantine.restore", entry_id, path_fields(entry.original))
        restored = repo.get(self.store.conn, entry_id)
        assert restored is not None
        return _listed(restored)

    def _stored(self, entry_id: str) -> bytes:
        directory = self.host.path(self.directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.fsencode(directory / entry_id)


def _regular(path: bytes) -> os.stat_result:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise NotFoundError(f"no such file: {os.fsdecode(path)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise RefusedError(f"{os.fsdecode(path)} is not a regular file (links are not followed)")
    return info


def _copy(source: bytes, target: bytes, mode: int) -> str:
    """Copy, fsync, and return the sha256 of what was written (temp name, then rename)."""
    digest = hashlib.sha256()
    temp = target + b".part"
    with open(source, "rb") as reader:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
    os.rename(temp, target)
    return digest.hexdigest()


def _sha256(path: bytes) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _listed(entry: Entry) -> Listed:
    where = path_fields(entry.original)
    return Listed(entry.id, where["path"], where.get("path_b64", ""), entry.size, entry.sha256,
                  entry.reason, entry.quarantined_at, entry.who, entry.restored_at)  # fmt: skip
