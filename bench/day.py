"""The daemon's memory over a day of traffic: a day of log time (``BENCH_LINES`` mainlog
lines, 2.5 million by default: 29 a second, from many senders, clients and failing
addresses) appended as fast as the daemon reads it; its RSS sampled at every tenth of the
day.  The detectors' windows hold at most their window's worth (and every map a cap), so
after the first hours the RSS stays flat.

Target (issue #18): RSS < 150 MB, and the last sample within 10 % of the one at 30 % of the
day (the longest detector window, 6 h, has filled by then).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from csm import control
from csm.clock import SystemClock
from csm.drill.build import build

LINES = int(os.environ.get("BENCH_LINES", "2500000"))
# An ordinary day has a few attackers; BENCH_ATTACK=1 makes a tenth of the lines failed
# logins from 65,000 addresses against 9,000 mailboxes (a finding every few dozen lines).
ATTACK = os.environ.get("BENCH_ATTACK") == "1"
CSM = str(Path(sys.executable).with_name("csm"))
TLS = "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no"
START = datetime(2026, 12, 1, tzinfo=UTC)


def day_lines(count: int, seed: int = 18) -> list[bytes]:
    """``count`` lines spread over one day: arrivals from many outside senders, submissions
    by many mailboxes from many clients, deliveries, and failed logins from many addresses."""
    pick, lines = random.Random(seed), []
    for number in range(count):
        stamp = (START + timedelta(seconds=86400 * number / count)).strftime("%Y-%m-%d %H:%M:%S")
        mid = f"1x{number % 9999:04d}-{number:06d}-Ab"
        roll = pick.random()
        if roll < 0.4:
            ip = f"192.0.{pick.randrange(256)}.{pick.randrange(1, 255)}"
            text = (
                f"{mid} <= news{pick.randrange(5000)}@example{pick.randrange(300)}.org"
                f" H=mail.example.org [{ip}]:25 P=esmtps {TLS} S=4211 id=x{mid}@example.org"
            )
        elif roll < 0.6:  # a customer's mailbox, from its own office or phone network
            user = pick.randrange(3000)
            box, ip = f"user{user}@bluefin.test", f"100.64.{user // 250}.{user % 250 + 1}"
            text = (
                f"{mid} <= {box} H=(pc) [{ip}]:50123 P=esmtpsa {TLS}"
                f' A=dovecot_login:{box} S=2210 id={mid}@bluefin.test T="Hello"'
            )
        elif roll < (0.7 if ATTACK else 0.62):
            ip, box = _failing(pick)
            text = (
                f"dovecot_login authenticator failed for (x) [{ip}]:4242:"
                f" 535 Incorrect authentication data (set_id={box})"
            )
        else:
            text = f"{mid} => info@cedarlaw.test R=virtual_user T=dovecot_virtual_delivery"
        lines.append(f"{stamp} {text}\n".encode())
    return lines


def _failing(pick: random.Random) -> tuple[str, str]:
    """A failed login: from anywhere against anyone (an attack day), else a few hundred
    addresses against a few hundred mailboxes (typos, old phones, a scanner or two)."""
    if ATTACK:
        ip = f"203.0.{pick.randrange(256)}.{pick.randrange(1, 255)}"
        return ip, f"u{pick.randrange(9000)}@bluefin.test"
    return (
        f"203.0.{pick.randrange(4)}.{pick.randrange(1, 60)}",
        f"u{pick.randrange(400)}@bluefin.test",
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    lines = day_lines(LINES)
    with tempfile.TemporaryDirectory(prefix="csm-day-") as tmp:
        host = build(Path(tmp) / "host", 1, SystemClock())
        env = {**os.environ, "CSM_CONFIG": str(host.config_path)}
        log = host.root / "var/log/exim_mainlog"
        log.write_bytes(b"")
        sock = host.root / "var/run/csm/control.sock"
        daemon = subprocess.Popen([CSM, "daemon"], env=env, stderr=subprocess.DEVNULL)
        while not control.answers(sock):
            time.sleep(0.05)
        samples, tenth, started = [], len(lines) // 10, time.monotonic()
        with log.open("ab") as out:
            for part in range(10):
                out.write(b"".join(lines[part * tenth : (part + 1) * tenth]))
                out.flush()
                wanted = (part + 1) * tenth
                while control.request(sock, "status")["watchers"]["mainlog"]["lines"] < wanted:
                    time.sleep(0.05)
                samples.append(rss_mb(daemon.pid))
        elapsed = time.monotonic() - started
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=120)
    quarter, last = samples[2], samples[-1]  # 30 %: the longest window (6 h) has filled
    kind = "an attack day" if ATTACK else "a day"
    print(f"{kind} of mainlog: {len(lines):,} lines read in {elapsed:.0f} s")
    print("RSS (MB) at each tenth of the day: " + ", ".join(f"{s:.0f}" for s in samples))
    growth = (last - quarter) / quarter * 100
    held = max(samples) < 150 and growth <= 10
    verdict = "held" if held else "FAILED"
    print(f"from 30 % of the day to the end: {growth:+.1f} % (target <= 10 %): {verdict}")


if __name__ == "__main__":
    main()
