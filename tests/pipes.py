"""A hang guard for the tests that put a named pipe (FIFO) where a file is read: the call runs
in a thread; if it is still waiting after a generous while (a reader blocked opening the pipe,
as CSM did), the pipe is opened for writing to release it and the test fails.  The tests
assert what the call returned, never how long it took."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")
GUARD = 120.0  # seconds: far beyond any run of these commands; only a hang reaches it


def returns(call: Callable[[], T], *pipes: Path) -> T:
    """``call()``'s result (or its exception), failing the test if it blocks on a pipe."""
    done: list[T] = []
    failed: list[BaseException] = []

    def target() -> None:
        try:
            done.append(call())
        except BaseException as exc:  # handed to the test's thread
            failed.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(GUARD)
    if thread.is_alive():
        for pipe in pipes:
            release(pipe)
        thread.join(GUARD)
        pytest.fail(f"blocked on a named pipe: {', '.join(map(str, pipes))}")
    if failed:
        raise failed[0]
    return done[0]


def release(pipe: Path) -> None:
    """Open the pipe for writing, then close it: a reader blocked opening it gets an end."""
    with contextlib.suppress(OSError):
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
