"""The state lock: ``state_dir/csm.lock``, an flock held by the daemon, holding its PID."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from csm.errors import LockHeldError

LOCK_NAME = "csm.lock"


class StateLock:
    """An exclusive, non-blocking flock; the holder's PID is written into the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> StateLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _held(self.path, read_pid(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StateLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def holder(path: Path) -> int | None:
    """The PID holding the lock (0 when unknown), or None when nobody holds it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_pid(path) or 0
    finally:
        os.close(fd)
    return None


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _held(path: Path, pid: int | None) -> LockHeldError:
    who = f"process {pid}" if pid else "another process"
    return LockHeldError(
        f"state lock {path} is held by {who}",
        pid=pid,
        fix="stop the CSM daemon (`systemctl stop csm`) or wait for the other command to finish",
    )
