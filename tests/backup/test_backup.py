"""``csm backup`` and ``csm backup verify`` on the simulated host, checked with the standard
tools the runbook uses (``gzip -t``, ``tar -tzf``, ``sha256sum``, ``tar -xOzf``)."""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from csm.backup import archive
from csm.drill.build import DrillHost
from csm.store.db import Store
from tests.backup.conftest import members, rebuilt
from tests.conftest import dropin

CSM = str(Path(sys.executable).parent / "csm")


def tool(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def test_the_runbook_s_step_2_works_as_written(drill: DrillHost, tmp_path: Path) -> None:
    """Runbook step 2, with its /root/csm-backups directory moved into the test's own."""
    backups = tmp_path / "csm-backups"
    dropin(drill, "40-note.yaml", "# a drop-in, backed up too\n")
    script = (
        f"set -euo pipefail\nmkdir -p {backups}\n"
        f"{CSM} backup {backups}/csm-pre-response-$(date +%Y%m%d%H%M%S).tar.gz\n"
        f"sha256sum {backups}/csm-pre-response-*.tar.gz\n"
        f"gzip -t {backups}/csm-pre-response-*.tar.gz\n"
        f"tar -tzf {backups}/csm-pre-response-*.tar.gz | sed -n '1,80p'\n"
    )
    env = {"CSM_CONFIG": str(drill.config_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=False, env=env
    )
    assert out.returncode == 0, out.stderr
    written = next(backups.glob("csm-pre-response-*.tar.gz"))
    lines = out.stdout.splitlines()
    assert lines[0] == f"backup written: {written} ({written.stat().st_size} bytes)"
    digest = hashlib.sha256(written.read_bytes()).hexdigest()
    assert lines[1] == f"sha256: {digest}" and lines[2] == f"{digest}  {written}"
    listed = lines[3:]
    assert listed[0] == "csm.yaml" and listed[-1] == "manifest.txt"
    assert {"conf.d/", "conf.d/40-note.yaml", "state/", "state/csm.db"} <= set(listed)
    assert not [n for n in listed if n.endswith(("csm.lock", "-wal", "-shm"))]
    assert written.stat().st_mode & 0o777 == 0o600


def test_the_archive_s_manifest_entries_and_record(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    out = tmp_path / "b.tar.gz"
    done = cli("backup", str(out), "--json")
    assert done.code == 0, done.err
    body = tool("tar", "-xOzf", str(out), "manifest.txt")
    assert body.splitlines()[1] == "schema=1" and body.startswith("backup_ts=")
    listed = {line.split('"')[1] for line in body.splitlines() if line.startswith("file=")}
    entries = members(out)
    assert listed == {m.name for m in entries if m.isfile()} - {"manifest.txt"}
    assert all(m.mode == (0o700 if m.isdir() else 0o600) and m.uid == 0 for m in entries)
    store = Store.open(drill.root / "var/lib/csm/state")
    row = store.conn.execute("SELECT path, size, sha256 FROM backups").fetchall()
    store.close()
    assert row == [(str(out), out.stat().st_size, done.json()["sha256"])]
    audit = (drill.root / "var/log/csm/audit.jsonl").read_text()
    assert '"action": "backup.create"' in audit and str(out) in audit


def test_backup_never_writes_over_what_it_holds(cli: Any, drill: DrillHost) -> None:
    state = drill.root / "var/lib/csm/state"
    for out in (drill.config_path, state / "b.tar.gz", drill.config_path.parent / "conf.d/b.tgz"):
        refused = cli("backup", str(out))
        assert refused.code == 3, out
    assert not (state / "b.tar.gz").exists()
    assert cli("backup", str(drill.root)).code == 2  # a directory
    assert cli("backup", "verify").code == 2
    assert cli("backup", "verify", str(drill.root / "no-such.tar.gz")).code == 1


def test_verify_rechecks_every_file(cli: Any, drill: DrillHost, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    assert cli("backup", str(out)).code == 0
    good = cli("backup", "verify", str(out), "--json")
    assert good.code == 0 and good.json()["ok"] and good.json()["recorded"]
    assert good.json()["files"] == len([m for m in members(out) if m.isfile()]) - 1

    def tamper(info: Any, data: bytes) -> list[tuple[Any, bytes]]:
        return [(info, data.replace(b"seed 1", b"seed 9") if info.name == "csm.yaml" else data)]

    changed = cli("backup", "verify", str(rebuilt(out, tmp_path / "t.tar.gz", tamper)), "--json")
    assert changed.code == 1 and changed.json()["problems"] == [
        "csm.yaml: its content differs from manifest.txt (sha256)"
    ]
    assert not changed.json()["recorded"]


def _write_forever(state: str, ready: Any) -> None:
    store = Store.open(Path(state))
    store.conn.execute("CREATE TABLE IF NOT EXISTS ingest (n INTEGER, pad TEXT)")
    ready.set()
    n = 0
    while True:
        with store.transaction() as conn:  # a transaction of 50 rows, as an ingest batch
            conn.executemany(
                "INSERT INTO ingest VALUES (?, ?)", [(n + i, "x" * 200) for i in range(50)]
            )
        n += 50


def test_a_backup_during_writes_restores_a_consistent_store(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    state = drill.root / "var/lib/csm/state"
    Store.open(state).close()
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    writer = context.Process(target=_write_forever, args=(str(state), ready), daemon=True)
    writer.start()
    try:
        assert ready.wait(10)
        taken = [tmp_path / f"during-{i}.tar.gz" for i in range(3)]
        for out in taken:
            assert cli("backup", str(out)).code == 0
    finally:
        writer.kill()
        writer.join()
    counts = []
    for out in taken:
        unpacked = tmp_path / out.name.replace(".tar.gz", "")
        unpacked.mkdir()
        tool("tar", "-xzf", str(out), "-C", str(unpacked))
        conn = sqlite3.connect(unpacked / "state/csm.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        total, top = conn.execute("SELECT count(*), max(n) FROM ingest").fetchone()
        conn.close()
        assert total % 50 == 0 and total == top + 1  # whole transactions only
        counts.append(total)
    assert counts == sorted(counts) and counts[-1] > 0
    assert cli("restore", str(taken[-1])).code == 0
    restored = sqlite3.connect(state / "csm.db")
    assert restored.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert restored.execute("SELECT count(*) FROM ingest").fetchone()[0] == counts[-1]
    restored.close()


def test_the_store_copy_is_checked(tmp_path: Path) -> None:
    live = tmp_path / "csm.db"
    live.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(Exception, match="state store"):
        archive.store_copy(live, tmp_path / "copy.db")
    assert archive.store_copy(tmp_path / "missing.db", tmp_path / "copy.db") is None
