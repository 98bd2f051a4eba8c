"""A real ``csm daemon`` process over a simulated host, and conditions waited on with a
deadline (no fixed sleeps)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from csm import control
from csm.clock import SystemClock
from csm.drill.build import DrillHost, build
from csm.errors import CsmError

CSM = str(Path(sys.executable).with_name("csm"))
DEADLINE = 60.0


def wait_until(condition: Callable[[], Any], timeout: float = DEADLINE, what: str = "") -> Any:
    """Poll ``condition`` until it is truthy; its value.  Fails the test at the deadline."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what or condition}")
        time.sleep(0.05)


class Daemon:
    """``csm daemon`` as a child process, its stderr kept in a file."""

    def __init__(self, host: DrillHost, log: Path) -> None:
        self.host = host
        self.log = log
        self.socket = host.root / "var/run/csm/control.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CSM_CONFIG": str(self.host.config_path)}

    def start(self, *args: str, ready: bool = True) -> Daemon:
        with self.log.open("ab") as err:
            self.process = subprocess.Popen(
                [CSM, "daemon", *args], env=self.env, stdout=subprocess.PIPE, stderr=err
            )
        if ready:
            wait_until(self.answers, what="the daemon's control socket")
        return self

    def answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"the daemon exited ({self.process.returncode}): {self.log.read_text()}")
        try:
            return bool(control.request(self.socket, "ping", timeout=5))
        except CsmError:
            return False

    def status(self) -> dict[str, Any]:
        result = control.request(self.socket, "status", timeout=10)
        assert isinstance(result, dict)
        return result

    def caught_up(self, name: str, lines: int) -> bool:
        watcher = self.status()["watchers"][name]
        return bool(watcher["lines"] >= lines and watcher["lag_bytes"] == 0)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DrillHost:
    """A simulated host whose mail logs start empty (the day's lines kept aside in
    ``mainlog.day`` and ``maillog.day``, for the test to append)."""
    built = build(tmp_path / "host", 1, SystemClock())
    monkeypatch.setenv("CSM_CONFIG", str(built.config_path))
    for name, kept in (("exim_mainlog", "mainlog.day"), ("maillog", "maillog.day")):
        log = built.root / "var/log" / name
        log.rename(tmp_path / kept)
        log.write_bytes(b"")
    return built


@pytest.fixture
def daemon(host: DrillHost, tmp_path: Path) -> Iterator[Daemon]:
    running = Daemon(host, tmp_path / "daemon.log")
    yield running
    if running.process is not None:
        running.kill()


def store(host: DrillHost) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{host.root}/var/lib/csm/state/csm.db?mode=ro", uri=True)


def finding_ids(host: DrillHost) -> set[str]:
    with store(host) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM finding_ids")}
