"""The outbound emergency stop on a big queue: the manual way (``exiqgrep -z -i`` for what is not
frozen, then ``exim -Mf`` in batches of 100, which records nothing and verifies nothing) vs
``csm mail stop outbound --apply`` (every id recorded before it is frozen, each batch read
back from the spool, audited), on the same queue built with the real Exim, in one run; then
``exim -Mt`` on the same ids vs ``csm mail resume outbound --apply --approve``.

No peer tool does this flow (CSF only drops ports), so the manual commands an operator would
type are the reference.  Prints each time and CSM's ratio to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # bench/queue.py shadows the standard library's queue

from csm.clock import SystemClock
from csm.drill.build import EXIM_CONFIG, build
from csm.drill.mailqueue import build_queue

SCALE = int(os.environ.get("BENCH_QUEUE_SCALE", "25"))  # 400 messages per scale step
CSM = str(Path(sys.executable).with_name("csm"))
BATCH = 100


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def unfrozen(exim: list[str]) -> list[str]:
    listed = subprocess.run(
        ["exiqgrep", "-E", exim[0], "-C", exim[2], "-z", "-i"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    frozen = set(listed)
    every = subprocess.run([*exim, "-bp"], check=True, capture_output=True, text=True).stdout
    ids = [w for line in every.splitlines() for w in line.split()[2:3] if len(w) >= 16]
    return [i for i in ids if i not in frozen]


def manual(exim: list[str], option: str, ids: list[str]) -> float:
    started = time.perf_counter()
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        subprocess.run([*exim, option, *batch], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="csm-bench-emergency-") as tmp:
        host = build(Path(tmp) / "host", 5, SystemClock())
        build_queue(host, 5, scale=SCALE)
        exim = [host.exim_bin, "-C", str(host.root / EXIM_CONFIG.lstrip("/"))]
        env = {**os.environ, "CSM_CONFIG": str(host.config_path)}
        started = time.perf_counter()
        ids = unfrozen(exim)
        listing = time.perf_counter() - started
        print(f"queue: {SCALE * 400} messages, {len(ids)} not frozen")
        by_hand = listing + manual(exim, "-Mf", ids)
        thaw_by_hand = manual(exim, "-Mt", ids)
        stop = timed([CSM, "mail", "stop", "outbound", "--reason", "bench", "--apply"], env)
        resume = timed([CSM, "mail", "resume", "outbound", "--apply", "--approve", "bench"], env)
        print(f"freeze: manual (exiqgrep + exim -Mf) {by_hand:.2f} s, csm mail stop {stop:.2f} s"
              f" (ratio {stop / by_hand:.2f})")  # fmt: skip
        print(f"thaw: manual (exim -Mt) {thaw_by_hand:.2f} s, csm mail resume {resume:.2f} s"
              f" (ratio {resume / thaw_by_hand:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
