"""The HTTP API under load: 200 concurrent clients (``BENCH_CLIENTS``) for 30 s
(``BENCH_SECONDS``) against ``csm daemon`` while it follows a mainlog written at 2,000 lines/s.
Each client asks, in turn, for the status, a page of incidents, one incident, the queue summary,
the accounts, the audit log and the metrics.

Prints requests/s, p50/p99 latency, the answers that were not 200 (target: none), the lines the
daemon read against those written (target: none lost), and, as the peer, the same clients
against Python's ``http.server`` serving the same answers as static files, on the same machine
at the same time budget: the ratio of the two p99s.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # bench/queue.py shadows

import httpx2 as httpx  # noqa: E402

from csm import control  # noqa: E402
from csm.clock import SystemClock  # noqa: E402
from csm.drill.build import build  # noqa: E402

_spec = importlib.util.spec_from_file_location("latency", HERE / "latency.py")
assert _spec is not None
assert _spec.loader is not None
latency = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(latency)
Traffic = latency.Traffic

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "200"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
RATE = 2_000
CSM = str(Path(sys.executable).with_name("csm"))


def writer(log: Path, stop: threading.Event) -> int:
    """Ordinary mail lines at RATE until ``stop``; how many were written."""
    traffic, written, start = Traffic(), 0, time.monotonic()
    with log.open("ab", buffering=0) as out:
        while not stop.is_set():
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
            lines = [traffic.ordinary(stamp) for _ in range(RATE // 100)]
            out.write(("\n".join(lines) + "\n").encode())
            written += len(lines)
            time.sleep(max(0.0, start + written / RATE - time.monotonic()))
    return written


async def load(
    base: str, paths: list[str], headers: dict[str, str]
) -> tuple[list[float], Counter[int]]:
    """CLIENTS clients asking for ``paths`` in turn for SECONDS: latencies and statuses."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:
        end = time.monotonic() + SECONDS

        async def one(number: int) -> None:
            turn = number
            while time.monotonic() < end:
                started = time.monotonic()
                try:
                    answer = await client.get(paths[turn % len(paths)])
                    statuses[answer.status_code] += 1
                except httpx.HTTPError:
                    statuses[0] += 1
                latencies.append(time.monotonic() - started)
                turn += 1

        await asyncio.gather(*(one(n) for n in range(CLIENTS)))
    return latencies, statuses


def summary(name: str, latencies: list[float], statuses: Counter[int]) -> float:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{name}: {len(ordered):,} requests, {len(ordered) / SECONDS:,.0f}/s,"
        f" p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms,"
        f" not 200: {sum(n for s, n in statuses.items() if s != 200)} {dict(statuses)}"
    )
    return p99


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


def static_peer(root: Path, base: str, paths: list[str], headers: dict[str, str]) -> float:
    """The same answers as files, served by Python's threading http.server: the peer's p99."""
    for path in paths:
        answer = httpx.get(base + path.lstrip("/"), headers=headers, timeout=60)
        target = root / path.lstrip("/").replace("?", "_")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(answer.content)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    peer = f"http://127.0.0.1:{server.server_address[1]}/"
    files = ["/" + p.lstrip("/").replace("?", "_") for p in paths]
    latencies, statuses = asyncio.run(load(peer, files, {}))
    server.shutdown()
    return summary("peer (http.server, static files)", latencies, statuses)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="csm-api-") as tmp:
        host = build(Path(tmp) / "host", 1, SystemClock())
        env = {**os.environ, "CSM_CONFIG": str(host.config_path)}
        log = host.root / "var/log/exim_mainlog"
        log.write_bytes(b"")
        daemon = subprocess.Popen([CSM, "daemon"], env=env, stderr=subprocess.DEVNULL)
        sock = host.root / "var/run/csm/control.sock"
        while not control.answers(sock) or not control.request(sock, "status")["api"]["url"]:
            time.sleep(0.05)
        base = control.request(sock, "status")["api"]["url"]
        headers = {"authorization": f"Bearer {host.api_tokens['read']}"}
        first = httpx.get(base + "api/v1/incidents?limit=1", headers=headers).json()["items"][0]
        paths = [
            "/api/v1/status",
            "/api/v1/incidents?limit=50",
            f"/api/v1/incidents/{first['id']}",
            "/api/v1/queue/summary",
            "/api/v1/accounts",
            "/api/v1/audit?limit=50",
            "/metrics",
        ]
        stop = threading.Event()
        written: list[int] = []
        thread = threading.Thread(target=lambda: written.append(writer(log, stop)))
        thread.start()
        latencies, statuses = asyncio.run(load(base, paths, headers))
        stop.set()
        thread.join()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            watcher = control.request(sock, "status")["watchers"]["mainlog"]
            if watcher["lines"] >= written[0] and watcher["lag_bytes"] == 0:
                break
            time.sleep(0.1)
        print(f"clients: {CLIENTS} for {SECONDS:.0f} s; mainlog written at {RATE:,} lines/s")
        p99 = summary("csm daemon API", latencies, statuses)
        print(
            f"lines written {written[0]:,}, read by the daemon {watcher['lines']:,}, lost"
            f" {written[0] - watcher['lines']:,}"
        )
        peer = static_peer(Path(tmp) / "static", base, paths, headers)
        daemon.terminate()
        daemon.wait(timeout=60)
    print(f"p99 ratio csm / static peer: {p99 / peer:.1f}x")


if __name__ == "__main__":
    main()
