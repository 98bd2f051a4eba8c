"""Where ``csm backup`` writes: only a new file, or with ``--force`` a regular file; never a
device, a FIFO, a socket or a symlink (not even with ``--force``); a file that appears while
the backup is written is left alone; a killed backup leaves nothing at OUT, and what it left
beside it (0600 / 0700, named after its pid) the next backup in that directory removes, while
a live writer's temporaries stay.  ``backup verify`` creates nothing in the state directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from csm import atomic
from csm.backup import archive
from csm.drill.build import DrillHost
from csm.store.db import Store
from tests.backup.conftest import SPECIAL, abandon, identity, occupy, writing

PREFIX = ".csm-backup-"


@pytest.mark.parametrize("kind", SPECIAL)
def test_backup_never_writes_over_a_special_file_or_a_symlink(
    cli: Any, drill: DrillHost, tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "out.tar.gz"
    keep = occupy(out, kind)
    before = identity(out)
    for force in ([], ["--force"]):
        refused = cli("backup", str(out), *force, "--json")
        assert refused.code == 3, refused.out
        assert "not a regular file" in refused.json()["error"]
        assert identity(out) == before
    if kind == "symlink":
        assert out.with_name("out.tar.gz.target").read_bytes() == b"the link's target\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(PREFIX)]
    if keep is not None:
        keep.close()


def test_an_existing_archive_is_replaced_only_with_force(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    out = tmp_path / "b.tar.gz"
    out.write_bytes(b"an earlier backup")
    refused = cli("backup", str(out))
    assert refused.code == 3 and "already exists" in refused.err and "--force" in refused.err
    assert out.read_bytes() == b"an earlier backup"
    done = cli("backup", str(out), "--force", "--json")
    assert done.code == 0, done.err
    assert out.stat().st_size == done.json()["size"] and out.stat().st_mode & 0o777 == 0o600
    assert cli("backup", "verify", str(out)).code == 0
    assert cli("backup", "verify", str(out), "--force").code == 2


def _appear(out: Path, kind: str) -> None:
    os.mkfifo(out) if kind == "fifo" else out.write_bytes(b"appeared")


@pytest.mark.parametrize(("replaces", "kind"), [("nothing", "file"), ("nothing", "fifo"),
                                                ("regular", "fifo")])  # fmt: skip
def test_what_appears_while_a_file_is_written_is_never_replaced(
    tmp_path: Path, replaces: atomic.Replaces, kind: str
) -> None:
    out = tmp_path / "out.tar.gz"
    writer = atomic.replacing(out, PREFIX, replaces=replaces)
    stream = writer.__enter__()
    stream.write(b"the new archive")
    _appear(out, kind)  # between the checks and the rename
    with pytest.raises(FileExistsError):
        writer.__exit__(None, None, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tar.gz"]
    if kind == "fifo":
        assert stat.S_ISFIFO(out.lstat().st_mode)
    else:
        assert out.read_bytes() == b"appeared"
    regular = tmp_path / "regular.tar.gz"
    regular.write_bytes(b"old")
    with atomic.replacing(regular, PREFIX, replaces="regular") as new:
        new.write(b"new")
    assert regular.read_bytes() == b"new"


def test_a_killed_backup_leaves_nothing_at_out_and_the_next_one_cleans_up(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    backups = tmp_path / "csm-backups"
    backups.mkdir()
    left = abandon(backups, PREFIX)
    assert not (backups / "out.tar.gz").exists()  # the killed writer's OUT
    assert sorted(p.is_dir() for p in left) == [False, True]
    for path in left:  # private while they lasted
        assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600)
    with writing(backups, PREFIX) as alive:
        assert cli("backup", str(backups / "next.tar.gz")).code == 0
        assert all(p.exists() for p in alive)  # a live writer's temporaries stay
    assert not any(p.exists() for p in left)
    assert sorted(p.name for p in backups.iterdir()) == ["next.tar.gz", "other.tar.gz"]


def test_the_scratch_store_copy_is_private(tmp_path: Path) -> None:
    live = tmp_path / "state"
    Store.open(live).close()
    with atomic.scratch(tmp_path, PREFIX) as scratch:
        copy = archive.store_copy(live / "csm.db", scratch / "csm.db")
        assert copy is not None and copy.stat().st_mode & 0o777 == 0o600
        assert scratch.stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in live.iterdir()) == ["csm.db"]  # no -wal/-shm left behind


def test_verify_creates_nothing_in_the_state_directory(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    state = drill.root / "var/lib/csm/state"
    out = tmp_path / "b.tar.gz"
    assert cli("backup", str(out)).code == 0
    before = sorted(os.listdir(state))
    assert "csm.db-wal" not in before and "csm.db-shm" not in before
    checked = cli("backup", "verify", str(out), "--json")
    assert checked.code == 0 and checked.json()["recorded"]
    assert sorted(os.listdir(state)) == before
    writer = Store.open(state)  # a daemon writing: its -wal and -shm are there, and read
    try:
        during = sorted(os.listdir(state))
        assert cli("backup", "verify", str(out), "--json").json()["recorded"]
        assert sorted(os.listdir(state)) == during
    finally:
        writer.close()


def test_a_state_file_with_a_control_character_in_its_name_refuses_the_backup(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    state = drill.root / "var/lib/csm/state"
    (state / "odd\nname").write_text("x")
    refused = cli("backup", str(tmp_path / "b.tar.gz"))
    assert refused.code == 3 and "control" in refused.err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tar.gz") or PREFIX in p.name]
