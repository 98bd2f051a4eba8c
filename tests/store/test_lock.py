from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from csm.errors import LockHeldError
from csm.store.lock import StateLock, holder


def _hold(
    path: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event
) -> None:
    with StateLock(Path(path)):
        ready.set()
        done.wait(30)


def test_lock_records_the_pid_and_releases(tmp_path: Path) -> None:
    path = tmp_path / "csm.lock"
    assert holder(path) is None
    with StateLock(path):
        assert path.read_text().strip() == str(os.getpid())
        assert path.stat().st_mode & 0o777 == 0o600
    assert holder(path) is None


def test_a_lock_held_by_another_process_is_refused_with_its_pid(tmp_path: Path) -> None:
    path = tmp_path / "csm.lock"
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(path), ready, done))
    proc.start()
    try:
        assert ready.wait(10)
        assert holder(path) == proc.pid
        with pytest.raises(LockHeldError) as caught:
            StateLock(path).acquire()
        assert caught.value.pid == proc.pid
        assert caught.value.fix
    finally:
        done.set()
        proc.join(10)
    assert holder(path) is None
    StateLock(path).acquire().release()
