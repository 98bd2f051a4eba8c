"""Start-up time of `csm version` and `csm --help`, against `python3 -c pass` on this machine.

Prints one line per command: median wall time over N runs, and the ratio to a bare interpreter.
Target (issue #2): under 100 ms wall for both.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 21
CSM = str(Path(sys.executable).parent / "csm")


def median_ms(argv: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    base = median_ms([sys.executable, "-c", "pass"])
    print(f"python3 -c pass   {base:7.1f} ms")
    for args in (["version"], ["--help"]):
        ms = median_ms([CSM, *args])
        verdict = "ok" if ms < 100 else "OVER BUDGET"
        print(f"csm {' '.join(args):<13} {ms:7.1f} ms  ({ms / base:4.1f}x bare python)  {verdict}")


if __name__ == "__main__":
    main()
