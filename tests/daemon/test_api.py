"""The API as the daemon serves it: on a free port it reports, a finding appended to the
followed log reaches an open event stream, /metrics counts it, and a stop ends the streams."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx2 as httpx

from csm.drill.build import DrillHost
from tests.daemon.conftest import Daemon, wait_until
from tests.daemon.test_daemon import append, day_lines


def url(daemon: Daemon) -> str:
    found = wait_until(lambda: daemon.status()["api"]["url"], what="the API address")
    assert isinstance(found, str)
    return found


class Events:
    """An event stream read in a thread: the events seen so far."""

    def __init__(self, base: str, token: str) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.connected = threading.Event()
        headers = {"authorization": f"Bearer {token}"}
        self.thread = threading.Thread(target=self._read, args=(base, headers), daemon=True)
        self.thread.start()

    def _read(self, base: str, headers: dict[str, str]) -> None:
        kind = ""
        with httpx.stream("GET", base + "api/v1/findings/stream", headers=headers, timeout=90) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                if line == ": connected":
                    self.connected.set()
                elif line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    self.seen.append((kind, json.loads(line.removeprefix("data: "))))

    def kinds(self, kind: str) -> list[Any]:
        return [data for seen, data in self.seen if seen == kind]


def test_the_daemon_serves_the_api_and_streams_findings(
    host: DrillHost, daemon: Daemon, tmp_path: Path
) -> None:
    daemon.start()
    base = url(daemon)
    assert base.startswith("http://127.0.0.1:")
    read = {"authorization": f"Bearer {host.api_tokens['read']}"}
    status = httpx.get(base + "api/v1/status", headers=read).json()
    assert status["daemon_running"] and "mainlog" in status["watchers"]
    assert httpx.get(base + "api/v1/status").status_code == 401

    events = Events(base, host.api_tokens["read"])
    assert events.connected.wait(30)
    append(host, day_lines(tmp_path))
    found = wait_until(lambda: events.kinds("finding"), what="a finding on the stream")
    assert {"check", "severity", "message", "time"} <= set(found[0])
    touched = wait_until(lambda: events.kinds("incidents"), what="the incidents event")
    assert touched[0]["incidents"]

    metrics = httpx.get(base + "metrics", headers=read).text
    assert 'csm_findings_total{check="' in metrics
    assert 'csm_log_lines_total{log="mainlog"}' in metrics
    assert "csm_incidents_open{" in metrics
    assert daemon.stop() == 0
    events.thread.join(30)
    assert not events.thread.is_alive()  # the stop ended the stream


def test_a_taken_port_is_reported_and_the_daemon_goes_on(
    host: DrillHost, daemon: Daemon, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        config = host.config_path.read_text().replace("127.0.0.1:0", f"127.0.0.1:{port}")
        host.config_path.write_text(config)
        daemon.start()
        api = daemon.status()["api"]
        assert api["url"] == "" and "cannot listen" in api["error"]
        append(host, day_lines(tmp_path)[:100])
        wait_until(lambda: daemon.caught_up("mainlog", 100), what="the mainlog read")
