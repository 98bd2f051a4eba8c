"""``csm backup``, ``csm backup verify`` and ``csm restore``: the checks around the archive.

A backup may be taken while the daemon runs (the store is copied with SQLite's online backup
API); it refuses to write over the configuration or inside the state or drop-in directory it
backs up, and is recorded in the store (path, size, sha256, time) and the audit log.  A restore
refuses while the daemon runs or starts (its control socket answers, or the state lock is held:
checked, locked, checked again), holds the lock throughout, and touches nothing live until the
whole archive was staged and checked."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from csm import control
from csm.audit import AuditLog
from csm.backup import archive, staging
from csm.backup.archive import Layout, Written
from csm.backup.restore import Commit, check, commit
from csm.clock import Clock
from csm.errors import CsmError, LockHeldError, RefusedError, StoreError, UsageError
from csm.store import backups
from csm.store.db import Store
from csm.store.lock import LOCK_NAME, StateLock, holder

DAEMON_RUNNING = "the CSM daemon is running; stop it first (systemctl stop csm)"


@dataclass(frozen=True, slots=True)
class Verification:
    archive: str
    ok: bool
    backup_ts: str
    csm_version: str
    files: int  # files checked against the manifest's sums
    problems: tuple[str, ...]
    sha256: str
    recorded: bool  # the archive is one this install's store recorded


@dataclass(frozen=True, slots=True)
class Restored:
    archive: str
    backup_ts: str
    replaced: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass
class Backups:
    layout: Layout
    socket: Path  # the daemon's control socket
    clock: Clock
    version: str
    audit: Callable[[Store], AuditLog]

    def create(self, out: Path, who: str) -> Written:
        out = self._checked_out(out)
        written = archive.write(self.layout, out, self.clock.now(), self.version)
        store = Store.open(self.layout.state, clock=self.clock)
        try:
            record = backups.BackupRecord(str(out), written.size, written.sha256,
                                          written.created_at, who)  # fmt: skip
            with store.transaction() as conn:
                backups.record(conn, record)
            details = {"size": written.size, "sha256": written.sha256,
                       "files": len(written.files)}  # fmt: skip
            self.audit(store).record(who, "backup.create", str(out), details)
        finally:
            store.close()
        return written

    def verify(self, path: Path) -> Verification:
        with staging.staged(path) as found:
            checked = len(found.files) if found.manifest.files else 0
            digest = archive.file_sha256(path)
            return Verification(
                str(path), not found.problems, found.manifest.backup_ts, found.manifest.version,
                checked, tuple(found.problems), digest, self._recorded(digest),
            )  # fmt: skip

    def restore(self, path: Path, who: str) -> Restored:
        self._refuse_running()
        with staging.staged(path) as found:
            if found.problems:
                raise RefusedError(
                    f"backup {path} refused: {'; '.join(found.problems)}; nothing was changed"
                )
            check(found, self.layout)
            with self._locked():
                done = commit(found, self.layout)
            ts = found.manifest.backup_ts
        self._record_restore(path, ts, done, who)
        return Restored(str(path), ts, done.replaced, done.removed)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The state lock held (no daemon can start), the socket checked again around it."""
        self.layout.state.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            lock = StateLock(self.layout.state / LOCK_NAME).acquire()
        except LockHeldError as exc:
            raise LockHeldError(f"{DAEMON_RUNNING} ({exc.message})", pid=exc.pid) from None
        try:
            self._refuse_answering()  # a daemon that started meanwhile
            yield
        finally:
            lock.release()

    def _checked_out(self, out: Path) -> Path:
        """The output as an absolute path; never the config, never inside what is backed up."""
        out = Path(out).absolute()
        resolved = out.resolve()
        if resolved == self.layout.config.resolve():
            raise RefusedError(f"refusing to write the backup over the configuration {out}")
        for inside in (self.layout.state, self.layout.dropins):
            if resolved.is_relative_to(inside.resolve()):
                raise RefusedError(
                    f"refusing to write the backup inside {inside}, which it holds",
                    fix="write it elsewhere, e.g. under /root/csm-backups/",
                )
        if out.is_dir():
            raise UsageError(f"{out} is a directory: give the archive's file name")
        return out

    def _refuse_running(self) -> None:
        """The daemon answers on its socket, or holds (or is taking) the state lock."""
        self._refuse_answering()
        pid = holder(self.layout.state / LOCK_NAME)
        if pid is not None:
            who = f"process {pid}" if pid else "another process"
            raise LockHeldError(f"{DAEMON_RUNNING} ({who} holds the state lock)", pid=pid or None)

    def _refuse_answering(self) -> None:
        if control.answers(self.socket):
            raise LockHeldError(f"{DAEMON_RUNNING} (its control socket {self.socket} answers)")

    def _recorded(self, digest: str) -> bool:
        try:
            store = Store.open_readonly(self.layout.state)
        except StoreError:
            return False
        try:
            return backups.by_sha256(store.conn, digest) is not None
        except sqlite3.Error:  # a store from before backups were recorded
            return False
        finally:
            store.close()

    def _record_restore(self, path: Path, ts: str, done: Commit, who: str) -> None:
        try:
            store = Store.open(self.layout.state, clock=self.clock)
        except CsmError:
            return  # restored without a store: nothing to record in
        try:
            details = {"backup_ts": ts, "replaced": list(done.replaced),
                       "removed": list(done.removed)}  # fmt: skip
            self.audit(store).record(who, "backup.restore", str(path), details)
        finally:
            store.close()
