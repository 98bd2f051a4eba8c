"""Mail log throughput: ``eximstats``, ``fail2ban-regex`` (exim filter) and ``csm check-logs``
on the same deterministic million-line cPanel-style mainlog, in one run.

Prints lines/s for each, CSM's ratios to the peers, and CSM's peak RSS.
Targets (issue #4): >= 3x eximstats, >= 10x fail2ban-regex, <= 150 MB.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from csm.clock import SystemClock
from csm.drill.build import build
from csm.drill.maillog import generate

TARGET_LINES = 1_000_000
FAIL2BAN_FILTER = "/etc/fail2ban/filter.d/exim.conf"


def mainlog(root: Path) -> tuple[Path, int]:
    host = build(root / "host", 1, SystemClock())
    probe = len(generate(host.accounts, 1, scale=1).mainlog)
    scale = max(1, round(TARGET_LINES / probe))
    day = generate(host.accounts, 1, scale=scale)
    path = root / "exim_mainlog"
    path.write_text("\n".join(day.mainlog[:TARGET_LINES]) + "\n")
    return path, min(len(day.mainlog), TARGET_LINES)


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and the child's peak RSS in KiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    elapsed = time.perf_counter() - started
    return elapsed, max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        log, lines = mainlog(root)
        print(f"mainlog             {lines:>10,} lines, {log.stat().st_size / 1e6:.0f} MB")
        rates: dict[str, float] = {}
        if shutil.which("eximstats"):
            seconds, _ = timed(["eximstats", str(log)])
            rates["eximstats"] = lines / seconds
        if shutil.which("fail2ban-regex") and Path(FAIL2BAN_FILTER).exists():
            seconds, _ = timed(["fail2ban-regex", str(log), FAIL2BAN_FILTER])
            rates["fail2ban-regex"] = lines / seconds
        env = {**os.environ, "CSM_CONFIG": str(root / "host/etc/csm/csm.yaml")}
        csm = str(Path(sys.executable).parent / "csm")
        seconds, rss = timed([csm, "check-logs", str(log), "--json"], env)
        rates["csm check-logs"] = lines / seconds
        for name, rate in rates.items():
            print(f"{name:<19} {rate:>10,.0f} lines/s")
        ours = rates["csm check-logs"]
        for peer, target in (("eximstats", 3), ("fail2ban-regex", 10)):
            if peer in rates:
                ratio = ours / rates[peer]
                print(
                    f"csm / {peer:<13} {ratio:>10.2f}x   target >= {target}x -> {'ok' if ratio >= target else 'BELOW'}"
                )
        print(
            f"csm peak RSS        {rss / 1024:>10.0f} MB   target <= 150 MB -> {'ok' if rss <= 150 * 1024 else 'OVER'}"
        )


if __name__ == "__main__":
    main()
