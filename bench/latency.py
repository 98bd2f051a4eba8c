"""Detection latency of ``csm daemon``: realistic mainlog lines appended at 2,000 lines/s for
60 s (``BENCH_SECONDS``), with a stolen-mailbox burst every few seconds inside; the time from
the line that crosses the threshold (the 100th message in 10 minutes: CRITICAL) being written
to the incident being visible in the store.  Prints p50/p99, the daemon's CPU % of one core
and peak RSS, and ``csm check-logs`` over the same file afterwards.

Targets (issue #18): p99 < 0.5 s, CPU < 15 % of one core, RSS < 150 MB.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from csm import control
from csm.clock import SystemClock
from csm.drill.build import build

RATE = 2_000  # lines per second
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
BURST_EVERY = 4.0  # seconds between two stolen mailboxes
THRESHOLD = 100  # mail.rules.rate_critical: the message that makes it CRITICAL
TICK = 0.01
CSM = str(Path(sys.executable).with_name("csm"))
TLS = "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no"


class Traffic:
    """Ordinary mail (arrivals from outside, local deliveries) and, inside it, bursts."""

    def __init__(self, seed: int = 18) -> None:
        self.random = random.Random(seed)
        self.number = 0

    def msgid(self) -> str:
        self.number += 1
        return f"1x{self.number % 9999:04d}-{self.number:06d}-Ab"

    def ordinary(self, stamp: str) -> str:
        mid = self.msgid()
        if self.random.random() < 0.5:
            ip = f"192.0.2.{self.random.randrange(1, 250)}"
            return (
                f"{stamp} {mid} <= news{self.random.randrange(99)}@example.org"
                f" H=mail.example.org [{ip}]:25 P=esmtps {TLS} S=4211 id=x{mid}@example.org"
            )
        return f"{stamp} {mid} => info@cedarlaw.test R=virtual_user T=dovecot_virtual_delivery"

    def stolen(self, stamp: str, box: str, ip: str) -> str:
        mid = self.msgid()
        return (
            f"{stamp} {mid} <= {box} H=(pc) [{ip}]:50123 P=esmtpsa {TLS}"
            f' A=dovecot_login:{box} S=2210 id={mid}@bluefin.test T="Invoice"'
        )


def writer(log: Path, crossings: dict[str, float], stop: threading.Event) -> int:
    """Append at RATE for SECONDS; each burst's 100th line is timed when written."""
    traffic, written, start = Traffic(), 0, time.monotonic()
    bursts: list[tuple[str, int]] = []  # (mailbox, messages sent so far)
    with log.open("ab", buffering=0) as out:
        while (elapsed := time.monotonic() - start) < SECONDS and not stop.is_set():
            if len(crossings) + len(bursts) < elapsed / BURST_EVERY:
                bursts.append((f"victim{len(crossings) + len(bursts)}@bluefin.test", 0))
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
            lines, crossed = [], []
            for _ in range(int(RATE * TICK)):
                if bursts and traffic.random.random() < 0.25:
                    box, sent = bursts[0]
                    lines.append(traffic.stolen(stamp, box, "100.64.9.9"))
                    bursts[0] = (box, sent + 1)
                    if sent + 1 == THRESHOLD:
                        crossed.append(bursts.pop(0)[0])
                else:
                    lines.append(traffic.ordinary(stamp))
            out.write(("\n".join(lines) + "\n").encode())
            now = time.monotonic()
            for box in crossed:
                crossings[box] = now
            written += len(lines)
            time.sleep(max(0.0, start + (written / RATE) - time.monotonic()))
    return written


def watch(
    db: Path, crossings: dict[str, float], seen: dict[str, float], stop: threading.Event
) -> None:
    """Poll the store every 2 ms for an incident naming each crossed mailbox."""
    while not db.exists():
        time.sleep(0.01)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    while not stop.is_set():
        for box in [b for b in crossings if b not in seen]:
            row = conn.execute("SELECT 1 FROM incidents WHERE mailbox = ? LIMIT 1", (box,))
            if row.fetchone():
                seen[box] = time.monotonic()
        time.sleep(0.002)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="csm-latency-") as tmp:
        host = build(Path(tmp) / "host", 1, SystemClock())
        env = {**os.environ, "CSM_CONFIG": str(host.config_path)}
        log = host.root / "var/log/exim_mainlog"
        log.write_bytes(b"")
        daemon = subprocess.Popen([CSM, "daemon"], env=env, stderr=subprocess.DEVNULL)
        sock = host.root / "var/run/csm/control.sock"
        while not control.answers(sock):
            time.sleep(0.05)
        crossings: dict[str, float] = {}
        seen: dict[str, float] = {}
        stop = threading.Event()
        db = host.root / "var/lib/csm/state/csm.db"
        poller = threading.Thread(target=watch, args=(db, crossings, seen, stop), daemon=True)
        poller.start()
        cpu_before, wall_before = cpu_seconds(daemon.pid), time.monotonic()
        written = writer(log, crossings, stop)
        deadline = time.monotonic() + 10
        while len(seen) < len(crossings) and time.monotonic() < deadline:
            time.sleep(0.01)
        cpu = (cpu_seconds(daemon.pid) - cpu_before) / (time.monotonic() - wall_before) * 100
        rss = peak_rss_mb(daemon.pid)
        stop.set()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        latencies = sorted(seen[b] - crossings[b] for b in seen)
        missed = len(crossings) - len(seen)
        started = time.monotonic()
        subprocess.run(
            [CSM, "check-logs", str(log), "--json"], env=env, check=True, capture_output=True
        )
        check_logs = time.monotonic() - started
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = (
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        if latencies
        else float("nan")
    )
    print(f"lines written: {written:,} in {SECONDS:.0f} s ({written / SECONDS:,.0f}/s)")
    print(f"bursts: {len(crossings)}, incidents seen: {len(seen)}, missed: {missed}")
    print(f"latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (target p99 < 500 ms)")
    print(f"daemon CPU {cpu:.1f} % of one core (target < 15 %)")
    print(f"daemon peak RSS {rss:.0f} MB (target < 150 MB)")
    speed = written / check_logs
    print(f"csm check-logs on the same file afterwards: {check_logs:.2f} s ({speed:,.0f} lines/s)")


if __name__ == "__main__":
    main()
