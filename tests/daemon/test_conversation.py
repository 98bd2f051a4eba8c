"""An operation that talks while it works: events reach the client's listener in order, and
an event the daemon must have confirmed (a new password) stops the operation when the
client does not confirm it: it raised, it hung up, or it had nobody to show it to."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from csm import control
from csm.daemon.control import ControlServer, Conversation
from csm.errors import ServiceUnavailableError


class Work:
    """A command that tells progress, asks for a confirmation, then changes something."""

    def __init__(self) -> None:
        self.changed = threading.Event()
        self.stopped: list[str] = []

    def __call__(self, args: dict[str, Any], talk: Conversation) -> Any:
        talk.tell("progress", {"n": 1})
        try:
            talk.confirm("secret", {"secret": "s3cret"})
        except ServiceUnavailableError as exc:
            self.stopped.append(exc.message)
            raise
        self.changed.set()
        return {"changed": True}


@contextmanager
def serving(work: Work) -> Iterator[Path]:
    """A real control server on a short socket path, its loop in a thread."""
    where = Path(tempfile.mkdtemp(prefix="csm-talk-")) / "control.sock"
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = ControlServer(where, {}, {"work": work})
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield where
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        shutil.rmtree(where.parent)


def test_events_reach_the_listener_before_the_change_and_the_reply() -> None:
    work, heard = Work(), []

    def listener(name: str, data: Any) -> None:
        heard.append((name, data, work.changed.is_set()))

    with serving(work) as at:
        result = control.request(at, "work", listener=listener)
    assert result == {"changed": True}
    assert heard == [("progress", {"n": 1}, False), ("secret", {"secret": "s3cret"}, False)]


def test_a_listener_that_fails_stops_the_work_before_the_change() -> None:
    work = Work()

    def listener(name: str, data: Any) -> None:
        if name == "secret":
            raise OSError("the terminal is gone")

    with serving(work) as at:
        with pytest.raises(OSError, match="terminal is gone"):
            control.request(at, "work", listener=listener)
        deadline = threading.Event()
        for _ in range(200):  # the server notices the hang-up
            if work.stopped:
                break
            deadline.wait(0.05)
    assert work.stopped and not work.changed.is_set()


def test_a_confirmation_nobody_can_give_is_refused() -> None:
    work = Work()
    with serving(work) as at, pytest.raises(ServiceUnavailableError, match="confirmation"):
        control.request(at, "work")
    assert not work.changed.is_set()
