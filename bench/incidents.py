"""Incident engine throughput, and list latency over a large store.

1. 500,000 findings over 50,000 keys (accounts, mailboxes, attacker IPs; WARNING/HIGH/CRITICAL;
   timestamps spread over a day, several sightings per key) go through ``Incidents.record()`` in
   batches of 5,000 with persistence on.  Beside it, in the same run, the same rows go into a bare
   SQLite table with one ``executemany`` per batch: the floor any persistent engine pays.
   Target: >= 50,000 findings/s end to end.
2. With 100,000 incidents stored, ``incidents list --status active --limit 100``: the service
   query time (median of 50), and the whole CLI command's wall time.  Target: < 50 ms query.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from csm.audit import AuditLog
from csm.clock import FixedClock
from csm.config.incidents import IncidentsConfig
from csm.incidents.model import Finding, Severity
from csm.incidents.service import Incidents, ListQuery
from csm.store.db import Store

FINDINGS = 500_000
KEYS = 50_000
BATCH = 5_000
T0 = datetime(2026, 11, 1, tzinfo=UTC)
CHECKS = {
    "account": ["htaccess_injection", "obfuscated_php", "new_php_file", "wp_admin_created"],
    "mailbox": ["email_rate_warning", "email_rate_critical", "email_suspicious_geo"],
    "ip": ["smtp_bruteforce", "wp_login_bruteforce", "mail_bruteforce", "http_sqli"],
}
SEVERITIES = [Severity.WARNING] * 5 + [Severity.HIGH] * 4 + [Severity.CRITICAL]


def make_specs(
    keys: int, total: int, start: datetime, seed: int
) -> list[tuple[datetime, str, int, int]]:
    """Each key's sightings come a few minutes apart; keys interleave over the day.  Specs are
    small tuples; findings are built from them batch by batch, as a detector hands them over."""
    rng = random.Random(seed)
    per_key = total // keys
    specs = []
    for k in range(keys):
        family = ("account", "mailbox", "ip")[k % 3]
        base = start + timedelta(seconds=rng.randrange(0, 86_400))
        for n in range(per_key):
            specs.append(
                (
                    base + timedelta(seconds=n * rng.randrange(30, 240)),
                    family,
                    k,
                    rng.randrange(1 << 30),
                )
            )
    specs.sort()
    return specs


def batches(specs: list[tuple[datetime, str, int, int]]) -> Iterator[list[Finding]]:
    for i in range(0, len(specs), BATCH):
        yield [_finding(r, family, k, at) for at, family, k, r in specs[i : i + BATCH]]


def _finding(r: int, family: str, k: int, at: datetime) -> Finding:
    checks = CHECKS[family]
    check, severity = checks[r % len(checks)], SEVERITIES[(r >> 8) % len(SEVERITIES)]
    if family == "account":
        return Finding(
            check, severity, f"{check} in /home/user{k}/public_html", at, account=f"user{k}"
        )
    if family == "mailbox":
        box = f"info@site{k}.test"
        return Finding(check, severity, f"{box} sent mail", at, account=f"user{k}", mailbox=box)
    ip = f"198.51.{(k >> 8) & 255}.{k & 255}"
    return Finding(check, severity, f"failures from {ip}", at, remote_ip=ip)


def service(root: Path) -> tuple[Incidents, Store]:
    clock = FixedClock(T0 + timedelta(days=3))
    store = Store.open(root / "state", clock=clock)
    return Incidents(store, IncidentsConfig(), clock, AuditLog(store, root / "log", clock)), store


def run_engine(root: Path, specs: list[tuple[datetime, str, int, int]]) -> float:
    incidents, store = service(root)
    elapsed = 0.0
    for batch in batches(specs):
        started = time.perf_counter()
        incidents.record(batch)
        elapsed += time.perf_counter() - started
    store.close()
    return elapsed


def run_bare(root: Path, specs: list[tuple[datetime, str, int, int]]) -> float:
    conn = sqlite3.connect(root / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # as the store runs
    conn.execute(
        "CREATE TABLE findings (time TEXT, check_name TEXT, severity TEXT, message TEXT,"
        " account TEXT, mailbox TEXT, remote_ip TEXT)"
    )
    elapsed = 0.0
    for batch in batches(specs):
        started = time.perf_counter()
        rows = [
            (
                f.time.isoformat(),
                f.check,
                f.severity.value,
                f.message,
                f.account,
                f.mailbox,
                f.remote_ip,
            )
            for f in batch
        ]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - started
    conn.close()
    return elapsed


def list_latency(root: Path) -> tuple[int, float, float]:
    incidents, store = service(root)
    total = incidents.list(ListQuery(status="all", limit=1)).total
    times = []
    for _ in range(50):
        started = time.perf_counter()
        incidents.list(ListQuery(status="active", limit=100))
        times.append((time.perf_counter() - started) * 1000)
    store.close()
    config = root / "csm.yaml"
    config.write_text(f"paths:\n  root: {root}\n  state_dir: /state\n  log_dir: /log\n")
    csm = str(Path(sys.executable).parent / "csm")
    argv = [
        csm,
        "--config",
        str(config),
        "incidents",
        "list",
        "--status",
        "active",
        "--limit",
        "100",
        "--json",
    ]
    walls = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            argv,
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "CSM_CONFIG": str(config)},
        )
        walls.append((time.perf_counter() - started) * 1000)
    return total, statistics.median(times), statistics.median(walls)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        found = make_specs(KEYS, FINDINGS, T0, seed=1)
        bare = run_bare(root, found)
        engine = run_engine(root, found)
        print(f"findings            {len(found):>9,}  over {KEYS:,} keys, batches of {BATCH:,}")
        print(f"bare executemany    {len(found) / bare:>9,.0f} rows/s      ({bare:.2f} s)")
        print(f"csm record()        {len(found) / engine:>9,.0f} findings/s  ({engine:.2f} s)")
        print(f"ratio csm / bare    {bare / engine:>9.2f}   target: >= 50,000 findings/s -> "
              f"{'ok' if len(found) / engine >= 50_000 else 'BELOW TARGET'}")  # fmt: skip
        more = make_specs(KEYS, KEYS * 2, T0 + timedelta(days=2), seed=2)
        incidents, store = service(root)
        for batch in batches(more):
            incidents.record(batch)
        store.close()
        total, query_ms, wall_ms = list_latency(root)
        print(f"stored incidents    {total:>9,}")
        print(f"list active 100     {query_ms:>9.2f} ms query (median of 50)  target < 50 ms -> "
              f"{'ok' if query_ms < 50 else 'OVER'}")  # fmt: skip
        print(f"csm incidents list  {wall_ms:>9.1f} ms wall, whole command (median of 5)")


if __name__ == "__main__":
    main()
