"""``csm daemon`` under abuse, the long runs of the suite's tests:

- restarts: SIGKILL at random points while the drill's mail day is appended, 100 times
  (``BENCH_KILLS``); then the findings recorded must be exactly those ``csm check-logs``
  finds over the whole file (none lost, none doubled);
- rotations: lines written at 2,000/s while the log is rotated 1,000 times
  (``BENCH_ROTATIONS``): half renamed (``x.1``… shifted), then half copied and truncated
  (the writer paused, dated copies); every line must be read once.

Prints each run's figures and whether it held.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from csm import control
from csm.clock import SystemClock
from csm.drill.build import DrillHost, build
from csm.errors import CsmError

CSM = str(Path(sys.executable).with_name("csm"))
KILLS = int(os.environ.get("BENCH_KILLS", "100"))
ROTATIONS = int(os.environ.get("BENCH_ROTATIONS", "1000"))


class Daemon:
    def __init__(self, host: DrillHost) -> None:
        self.env = {**os.environ, "CSM_CONFIG": str(host.config_path)}
        self.socket = host.root / "var/run/csm/control.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([CSM, "daemon"], env=self.env, stderr=subprocess.DEVNULL)
        self.wait(lambda: self.status() is not None)

    def status(self) -> dict[str, Any] | None:
        try:
            found = control.request(self.socket, "status", timeout=10)
        except CsmError:
            return None
        return found if isinstance(found, dict) else None

    def watcher(self) -> dict[str, Any]:
        status = self.status()
        assert status is not None
        return dict(status["watchers"]["mainlog"])

    def stop(self, sig: int = 15) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=60)

    @staticmethod
    def wait(condition: Any, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise SystemExit(f"gave up waiting for {condition}")
            time.sleep(0.02)


def fresh_host(root: Path) -> tuple[DrillHost, list[bytes]]:
    host = build(root, 1, SystemClock())
    log = host.root / "var/log/exim_mainlog"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"")
    return host, lines


def finding_ids(host: DrillHost) -> set[str]:
    db = host.root / "var/lib/csm/state/csm.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM finding_ids")}


def restarts(root: Path) -> bool:
    host, lines = fresh_host(root)
    log, chance = host.root / "var/log/exim_mainlog", random.Random(100)
    before, daemon = finding_ids(host), Daemon(host)
    piece = max(1, len(lines) // (KILLS * 2))
    started = time.monotonic()
    for round_ in range(KILLS):
        daemon.start()
        with log.open("ab") as out:
            out.write(b"".join(lines[round_ * 2 * piece : (round_ + 1) * 2 * piece]))
        when = chance.choice(("at once", "reading", "read"))
        if when == "reading":
            daemon.wait(lambda: daemon.watcher()["lines"] > 0)
        elif when == "read":
            daemon.wait(lambda: daemon.watcher()["lag_bytes"] == 0)
        daemon.stop(9)
    with log.open("ab") as out:
        out.write(b"".join(lines[KILLS * 2 * piece :]))
    daemon.start()
    size = log.stat().st_size
    daemon.wait(lambda: daemon.watcher()["lag_bytes"] == 0 and _read_to(host) >= size)
    daemon.stop()
    recorded = finding_ids(host) - before
    done = subprocess.run(
        [CSM, "check-logs", str(log), "--json"], env=daemon.env, capture_output=True, check=True
    )
    expected = {f["origin"] for f in json.loads(done.stdout)["findings"]}
    held = recorded == expected
    print(
        f"restarts: {KILLS} SIGKILLs over {len(lines):,} lines"
        f" in {time.monotonic() - started:.0f} s;"
        f" findings recorded {len(recorded)}, check-logs {len(expected)},"
        f" lost {len(expected - recorded)}, extra {len(recorded - expected)}: "
        + ("held" if held else "FAILED")
    )
    return held


def _read_to(host: DrillHost) -> int:
    db = host.root / "var/lib/csm/state/csm.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT read_offset FROM log_positions WHERE name = 'mainlog'")
        found = row.fetchone()
    return int(found[0]) if found else 0


def rotations(root: Path) -> bool:
    host, _ = fresh_host(root)
    log, daemon = host.root / "var/log/exim_mainlog", Daemon(host)
    daemon.start()
    written, started = 0, time.monotonic()
    per_rotation = 40  # at 2,000 lines/s: a rotation every 20 ms
    for rotation in range(ROTATIONS):
        with log.open("ab") as out:
            lines = [
                f"2026-12-03 03:00:00 line {written + n + 1} of the rotation run\n"
                for n in range(per_rotation)
            ]
            out.write("".join(lines).encode())
        written += per_rotation
        time.sleep(max(0.0, started + written / 2000 - time.monotonic()))
        if rotation < ROTATIONS // 2:  # one naming scheme at a time, as on a real host
            _shift(log)
            os.rename(log, log.with_name(log.name + ".1"))
            log.write_bytes(b"")
        else:
            done = written
            daemon.wait(lambda done=done: daemon.watcher()["lines"] >= done)  # writer paused
            log.with_name(f"{log.name}-{rotation:08d}").write_bytes(log.read_bytes())
            os.truncate(log, 0)
    daemon.wait(lambda: daemon.watcher()["lines"] >= written)
    daemon.wait(lambda: not daemon.watcher()["lag_bytes"])
    watcher = daemon.watcher()
    daemon.stop()
    held = watcher["lines"] == written
    print(
        f"rotations: {ROTATIONS} while writing {written:,} lines"
        f" ({time.monotonic() - started:.0f} s); read {watcher['lines']:,},"
        f" renames seen {watcher['rotations']}, truncations seen {watcher['truncations']}: "
        + ("held" if held else "FAILED")
    )
    return held


def _shift(log: Path) -> None:
    numbered = sorted(log.parent.glob(log.name + ".*"), key=lambda p: -int(p.suffix[1:]))
    for path in numbered:
        os.rename(path, log.with_name(f"{log.name}.{int(path.suffix[1:]) + 1}"))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="csm-follow-") as tmp:
        ok = restarts(Path(tmp) / "restarts") & rotations(Path(tmp) / "rotations")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
