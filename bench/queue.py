"""Queue reading: ``exim -bpc`` vs ``csm queue count``, ``exim -bp | exiqsumm`` vs
``csm queue summary``, and ``exim -bp`` alone (the floor for reading the whole queue), on the
same 20,000-message queue built with the real Exim, in one run.

Targets (issue #6): ``csm queue summary`` >= 2x faster than ``exim -bp | exiqsumm`` with
identical per-domain counts, and no slower than ``exim -bp`` alone; ``csm queue count`` under
100 ms wall.

``csm queue summary`` reads the spool through its index (only changed files are parsed), so
the figures come in three: the first run (no index yet: every file parsed, the full command),
the runs on an unchanged queue (the timed ones, compared with Exim's), and the first run after
Exim rewrote part of the queue (a tenth of the messages frozen).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file's name is the standard library's `queue` (which thread pools import): run as a
# script, its own directory must not come first on the import path.
if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from csm.clock import SystemClock
from csm.drill.build import EXIM_CONFIG, build
from csm.drill.mailqueue import build_queue

SCALE = int(os.environ.get("BENCH_QUEUE_SCALE", "50"))  # 400 messages per scale step
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def best(run: list[str] | str, env: dict[str, str] | None = None, runs: int = RUNS) -> float:
    """The fastest of ``runs`` wall-clock runs (a string is a pipeline, run by /bin/sh)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        if isinstance(run, str):
            subprocess.run(["sh", "-c", run], check=True, stdout=subprocess.DEVNULL)
        else:
            subprocess.run(run, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - started)
    return min(times)


def per_domain_exiqsumm(exim: list[str]) -> dict[str, int]:
    listed = subprocess.run([*exim, "-bp"], check=True, capture_output=True, text=True).stdout
    out = subprocess.run(["exiqsumm"], input=listed, check=True, capture_output=True, text=True)
    found = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0].isdigit() and parts[4] != "TOTAL":
            found[parts[4]] = int(parts[0])
    return found


def refreeze(exim: list[str], ids: dict[str, list[str]]) -> int:
    """Freeze a tenth of the queue (Exim rewrites each one's -H file); how many.  Exim exits
    1 when one of them was frozen already (the frozen bounces): not a failure here."""
    chosen = sorted(i for group in ids.values() for i in group)[::10]
    for at in range(0, len(chosen), 500):
        subprocess.run([*exim, "-Mf", *chosen[at : at + 500]], check=False, capture_output=True)
    return len(chosen)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        host = build(Path(tmp) / "host", 1, SystemClock())
        started = time.perf_counter()
        plan = build_queue(host, 1, scale=SCALE)
        print(f"queue               {plan.total:>10,} messages (built in"
              f" {time.perf_counter() - started:.0f} s with the real Exim)")  # fmt: skip
        exim = [host.exim_bin, "-C", str(host.root / EXIM_CONFIG.lstrip("/"))]
        env = {**os.environ, "CSM_CONFIG": str(host.config_path)}
        csm = str(Path(sys.executable).parent / "csm")
        shell_exim = " ".join(exim)
        first = best([csm, "queue", "count"], env, runs=1)  # the full path, then the snapshot
        cold = best([csm, "queue", "summary", "--json"], env, runs=1)  # builds the index
        timed = {
            "exim -bpc": best([*exim, "-bpc"]),
            "csm queue count": best([csm, "queue", "count"], env),
            "exim -bp": best([*exim, "-bp"]),
            "exim -bp | exiqsumm": best(f"{shell_exim} -bp | exiqsumm"),
            "csm queue summary": best([csm, "queue", "summary", "--json"], env),
        }
        for name, seconds in timed.items():
            print(f"{name:<22} {seconds * 1000:>8.0f} ms")
        ours = subprocess.run([csm, "queue", "summary", "--json"], env=env, check=True,
                              capture_output=True, text=True).stdout  # fmt: skip
        counts = {row["key"]: row["messages"] for row in json.loads(ours)["rows"]}
        same = counts == per_domain_exiqsumm(exim)
        print(f"per-domain counts identical to exiqsumm: {'yes' if same else 'NO'}")
        ratio = timed["exim -bp | exiqsumm"] / timed["csm queue summary"]
        floor = timed["exim -bp"] / timed["csm queue summary"]
        print(f"summary vs exim -bp | exiqsumm {ratio:>6.2f}x faster  target >= 2x ->"
              f" {'ok' if ratio >= 2 else 'BELOW'}")  # fmt: skip
        print(f"summary vs exim -bp alone      {floor:>6.2f}x        target >= 1x ->"
              f" {'ok' if floor >= 1 else 'BELOW'}")  # fmt: skip
        changed = refreeze(exim, plan.ids)
        after = best([csm, "queue", "summary", "--json"], env, runs=1)
        print(f"csm queue summary, first run (no index, every file parsed): {cold * 1000:.0f} ms")
        print(f"csm queue summary, first run after Exim rewrote {changed:,} messages:"
              f" {after * 1000:.0f} ms")  # fmt: skip
        print(
            f"csm queue count, first run after a config change (full path): {first * 1000:.0f} ms"
        )
        count_ms = timed["csm queue count"] * 1000
        print(f"csm queue count                {count_ms:>6.0f} ms       target < 100 ms ->"
              f" {'ok' if count_ms < 100 else 'OVER'}")  # fmt: skip


if __name__ == "__main__":
    main()
