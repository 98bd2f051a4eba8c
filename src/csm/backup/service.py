"""``csm backup``, ``csm backup verify`` and ``csm restore``: the checks around the archive.

A backup may be taken while the daemon runs (the store is copied with SQLite's online backup
API); it refuses to write over the configuration or inside the state or drop-in directory it
backs up, and over anything already at its path (a regular file only with ``force``; never a
symlink, a device or a FIFO); it is recorded in the store (path, size, sha256, time) and the
audit log.  ``verify`` reads the install's store without creating anything beside it.

A restore refuses while the daemon runs or starts (its control socket answers, or the state
lock is held: checked, locked, checked again), holds the lock throughout, and touches nothing
live until the whole archive was staged and checked: its files against the manifest's sums (an
archive without sums only with ``accept_unsummed``, recorded), its configuration and store
(:mod:`csm.backup.checks`).  Then it backs up the live install (``restore-backups/`` beside the
state directory) so that the restore can itself be undone, and swaps the archive in."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Final
from urllib.parse import quote

from csm import atomic, control
from csm.audit import AuditLog
from csm.backup import archive, checks, staging
from csm.backup.archive import Layout, Written
from csm.backup.restore import Commit, check, commit
from csm.backup.staging import Staged
from csm.clock import Clock
from csm.errors import CsmError, LockHeldError, RefusedError, UsageError
from csm.store import backups
from csm.store.db import DB_NAME, Store
from csm.store.lock import LOCK_NAME, StateLock, holder

DAEMON_RUNNING = "the CSM daemon is running; stop it first (systemctl stop csm)"
UNSUMMED = (
    "manifest.txt lists no sha256 sums, so its files cannot be checked (CSM always"
    " writes them; an archive from the Go CSM has none)"
)
ACCEPT_UNSUMMED = (
    "restore an archive written by `csm backup`; for one you trust whose manifest lists no"
    " sums, pass --accept-unsummed (recorded in the audit log)"
)
PRE_RESTORE_DIR: Final = "restore-backups"


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
    pre_restore_backup: str  # the install as it was: `csm restore` it to undo this restore
    pre_restore_sha256: str
    accepted_unsummed: bool  # restored from an archive without sums, as asked


@dataclass
class Backups:
    layout: Layout
    socket: Path  # the daemon's control socket
    clock: Clock
    version: str
    audit: Callable[[Store], AuditLog]
    env: Mapping[str, str] = field(default_factory=dict)  # CSM_* settings, as the CLI reads

    def create(self, out: Path, who: str, *, force: bool = False) -> Written:
        out = self._checked_out(out, force)
        try:
            written = archive.write(self.layout, out, self.clock.now(), self.version, replace=force)
        except FileExistsError:
            raise _appeared(out) from None
        self._record_backup(written, who)
        return written

    def verify(self, path: Path) -> Verification:
        with staging.staged(path) as found:
            problems = ([] if found.summed else [UNSUMMED]) + self._problems(found)
            digest = archive.file_sha256(path)
            return Verification(
                str(path),
                not problems,
                found.manifest.backup_ts,
                found.manifest.version,
                len(found.files) if found.summed else 0,
                tuple(problems),
                digest,
                self._recorded(digest),
            )

    def restore(self, path: Path, who: str, *, accept_unsummed: bool = False) -> Restored:
        self._refuse_running()
        with staging.staged(path) as found:
            self._refuse_problems(path, found, accept_unsummed)
            check(found, self.layout)
            with self._locked():
                before = self._pre_restore()
                done = commit(found, self.layout)
            ts = found.manifest.backup_ts
        unsummed = not found.summed
        self._record_restore(path, ts, done, before, unsummed, who)
        return Restored(
            str(path), ts, done.replaced, done.removed, str(before.path), before.sha256, unsummed
        )

    def _problems(self, found: Staged) -> list[str]:
        return found.problems + checks.problems(found, self.layout, self.env)

    def _refuse_problems(self, path: Path, found: Staged, accept_unsummed: bool) -> None:
        unsummed = not found.summed and not accept_unsummed
        problems = [UNSUMMED] if unsummed else []
        problems += self._problems(found) + checks.keeps_store(found, self.layout)
        if problems:
            raise RefusedError(
                f"backup {path} refused: {'; '.join(problems)}; nothing was changed",
                fix=ACCEPT_UNSUMMED if unsummed else None,
            )

    def _pre_restore(self) -> Written:
        """A backup of the live install, outside the state directory, before it is replaced."""
        directory = self.layout.state.parent / PRE_RESTORE_DIR
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if atomic.occupant(directory) != "a directory":
            raise RefusedError(
                f"restore refused: {directory} is not a directory; nothing was changed"
            )
        directory.chmod(0o700)
        now = self.clock.now()
        out = _unused(directory, f"csm-pre-restore-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}")
        try:
            return archive.write(self.layout, out, now, self.version)
        except FileExistsError:
            raise _appeared(out) from None

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

    def _checked_out(self, out: Path, force: bool) -> Path:
        """The output as an absolute path: never the config, never inside what is backed up,
        never over anything but (with ``force``) a regular file."""
        out = Path(out).absolute()
        resolved = Path(out.parent.resolve(), out.name)
        if resolved == self.layout.config.resolve():
            raise RefusedError(f"refusing to write the backup over the configuration {out}")
        for inside in (self.layout.state, self.layout.dropins):
            if resolved.is_relative_to(inside.resolve()):
                raise RefusedError(
                    f"refusing to write the backup inside {inside}, which it holds",
                    fix="write it elsewhere, e.g. under /root/csm-backups/",
                )
        if atomic.occupant(out) == "a directory":
            raise UsageError(f"{out} is a directory: give the archive's file name")
        atomic.refuse_occupied(out, force=force, what="backup output")
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
        """Whether the install's store recorded the archive, read without creating anything
        in the state directory: through the store's -wal/-shm when a writer has them (both)
        there, else as an immutable file (there is no journal to read)."""
        live = self.layout.state / DB_NAME
        if not live.is_file():
            return False
        shared = all(Path(f"{live}{suffix}").is_file() for suffix in ("-wal", "-shm"))
        mode = "mode=ro" if shared else "mode=ro&immutable=1"
        try:
            conn = sqlite3.connect(f"file:{quote(str(live))}?{mode}", uri=True, timeout=5)
            try:
                return backups.by_sha256(conn, digest) is not None
            finally:
                conn.close()
        except sqlite3.Error:  # unreadable, or a store from before backups were recorded
            return False

    def _record_backup(self, written: Written, who: str) -> None:
        store = Store.open(self.layout.state, clock=self.clock)
        try:
            _record(store, self.audit(store), written, who, {})
        finally:
            store.close()

    def _record_restore(
        self, path: Path, ts: str, done: Commit, before: Written, unsummed: bool, who: str
    ) -> None:
        """The restore and the pre-restore backup, in the restored store and the audit log."""
        try:
            store = Store.open(self.layout.state, clock=self.clock)
        except CsmError:
            return  # restored without a store: nothing to record in
        try:
            audit = self.audit(store)
            _record(store, audit, before, who, {"reason": f"before restoring {path}"})
            details = {
                "backup_ts": ts,
                "replaced": list(done.replaced),
                "removed": list(done.removed),
                "pre_restore_backup": str(before.path),
                "pre_restore_sha256": before.sha256,
                "accepted_unsummed": unsummed,
            }
            audit.record(who, "backup.restore", str(path), details)
        finally:
            store.close()


def _record(
    store: Store, audit: AuditLog, written: Written, who: str, extra: Mapping[str, str]
) -> None:
    record = backups.BackupRecord(
        str(written.path), written.size, written.sha256, written.created_at, who
    )
    with store.transaction() as conn:
        backups.record(conn, record)
    details = {"size": written.size, "sha256": written.sha256, "files": len(written.files), **extra}
    audit.record(who, "backup.create", str(written.path), details)


def _unused(directory: Path, stem: str) -> Path:
    """``<stem>.tar.gz`` in ``directory``, else ``<stem>-1.tar.gz``, ``-2``… (the first free)."""
    n = 0
    while atomic.occupant(out := directory / f"{stem}{f'-{n}' if n else ''}.tar.gz") is not None:
        n += 1
    return out


def _appeared(out: Path) -> RefusedError:
    return RefusedError(
        f"{out} appeared while the backup was written; it was left as it is",
        fix="choose a new file name",
    )
