"""The archive never lands in the account's home: not directly, not through a symlink, not
through a symlinked parent, not in the home's symlink target; nor anywhere under the home root
(another account's home) or its symlink targets.  It never replaces what is at --out or its
sidecar: an earlier snapshot only with ``force``, a device, FIFO, socket or symlink never.
Refused before anything is read or written.  Bad account names and missing homes are refused
the same way.  A killed snapshot's temporaries go with the next snapshot in that directory."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csm import mysql
from csm.clock import FixedClock
from csm.errors import InvalidIdentifierError, NotFoundError, RefusedError, UsageError
from csm.forensic.archive import TEMP_PREFIX as PREFIX
from csm.forensic.snapshot import Forensics
from csm.host import Host
from tests.backup.conftest import SPECIAL, abandon, identity, occupy, writing

ACCOUNT = "shopuser"


def never() -> mysql.Credentials:
    pytest.fail("a refused snapshot must not reach the database")


def service(root: Path) -> Forensics:
    return Forensics(Host(root), never, FixedClock(datetime(2026, 11, 21, tzinfo=UTC)))


def tree(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    home = tmp_path / "host" / "home" / ACCOUNT
    (home / "public_html").mkdir(parents=True)
    (home / "public_html" / "index.php").write_text("<?php echo 1;\n")
    (tmp_path / "out").mkdir()
    return tmp_path / "host"


def refused(root: Path, out: Path) -> None:
    before = tree(root.parent)
    with pytest.raises(RefusedError) as caught:
        service(root).snapshot(ACCOUNT, out)
    assert caught.value.message == f"out path must not be inside /home/{ACCOUNT}/"
    assert tree(root.parent) == before  # nothing written anywhere


def test_an_out_path_in_the_home_is_refused(root: Path) -> None:
    home = root / "home" / ACCOUNT
    refused(root, home / "evidence.tar.gz")
    refused(root, home / "public_html" / "deep" / ".." / "evidence.tar.gz")
    refused(root, home)


def test_an_out_path_that_is_a_symlink_into_the_home_is_refused(root: Path) -> None:
    link = root.parent / "out" / "evidence.tar.gz"
    link.symlink_to(root / "home" / ACCOUNT / "public_html" / "planted.tar.gz")
    refused(root, link)
    assert not (root / "home" / ACCOUNT / "public_html" / "planted.tar.gz").exists()


def test_an_out_path_under_a_symlinked_parent_is_refused(root: Path) -> None:
    parent = root.parent / "out" / "forensics"
    parent.symlink_to(root / "home" / ACCOUNT / "public_html", target_is_directory=True)
    refused(root, parent / "evidence.tar.gz")


def test_an_out_path_in_the_home_s_symlink_target_is_refused(root: Path) -> None:
    home = root / "home" / ACCOUNT
    moved = root / "home2" / ACCOUNT
    moved.parent.mkdir()
    home.rename(moved)
    home.symlink_to(moved, target_is_directory=True)
    refused(root, moved / "evidence.tar.gz")
    refused(root, moved / "public_html" / "evidence.tar.gz")


def test_an_out_path_beside_the_homes_is_allowed(root: Path) -> None:
    out = root / "home-evidence" / "snap.tar.gz"  # a prefix of the home root, not inside it
    out.parent.mkdir()
    result = service(root).snapshot(ACCOUNT, os.path.relpath(out))
    assert result.path == out and out.is_file()
    assert (out.parent / "snap.tar.gz.sha256").is_file()


def refused_as_homes(root: Path, out: Path) -> None:
    before = tree(root.parent)
    with pytest.raises(RefusedError) as caught:
        service(root).snapshot(ACCOUNT, out)
    assert caught.value.message.startswith("out path must not be inside /home/, where the")
    assert tree(root.parent) == before


def test_an_out_path_in_another_account_s_home_or_the_home_root_is_refused(root: Path) -> None:
    other = root / "home" / "otheruser"
    (other / "public_html").mkdir(parents=True)
    refused_as_homes(root, other / "public_html" / "evidence.tar.gz")
    refused_as_homes(root, root / "home" / f"{ACCOUNT}-evidence" / "snap.tar.gz")
    refused_as_homes(root, root / "home" / "evidence.tar.gz")
    link = root.parent / "out" / "elsewhere"
    link.symlink_to(other, target_is_directory=True)
    refused_as_homes(root, link / "evidence.tar.gz")


def test_an_out_path_in_a_symlinked_home_s_target_or_the_root_s_target_is_refused(
    tmp_path: Path,
) -> None:
    real = tmp_path / "data" / "home"  # /home -> /data/home
    (real / ACCOUNT).mkdir(parents=True)
    (real / "bob-moved").mkdir()
    root = tmp_path / "host"
    root.mkdir()
    (root / "home").symlink_to(real, target_is_directory=True)
    (real / "bob").symlink_to(tmp_path / "home2" / "bob", target_is_directory=True)
    (tmp_path / "home2" / "bob").mkdir(parents=True)
    refused_as_homes(root, real / "bob-moved" / "x.tar.gz")
    refused_as_homes(root, tmp_path / "home2" / "bob" / "x.tar.gz")  # /home/bob -> /home2/bob


@pytest.mark.parametrize("at", ["archive", "sidecar"])
def test_an_earlier_snapshot_is_replaced_only_with_force(root: Path, at: str) -> None:
    out = root.parent / "out" / "snap.tar.gz"
    earlier = out if at == "archive" else out.with_name("snap.tar.gz.sha256")
    earlier.write_bytes(b"earlier evidence")
    before = tree(root.parent)
    with pytest.raises(RefusedError, match="already exists"):
        service(root).snapshot(ACCOUNT, out)
    assert tree(root.parent) == before and earlier.read_bytes() == b"earlier evidence"
    result = service(root).snapshot(ACCOUNT, out, force=True)
    assert result.path == out and earlier.read_bytes() != b"earlier evidence"
    assert subprocess.run(["sha256sum", "-c", "snap.tar.gz.sha256"], cwd=out.parent,
                          capture_output=True, check=False).returncode == 0  # fmt: skip


@pytest.mark.parametrize("at", ["archive", "sidecar"])
@pytest.mark.parametrize("kind", SPECIAL)
def test_a_special_file_or_symlink_at_out_is_never_replaced(root: Path, at: str, kind: str) -> None:
    out = root.parent / "out" / "snap.tar.gz"
    there = out if at == "archive" else out.with_name("snap.tar.gz.sha256")
    keep = occupy(there, kind)
    before = identity(there)
    for force in (False, True):
        with pytest.raises(RefusedError, match="not a regular file"):
            service(root).snapshot(ACCOUNT, out, force=force)
        assert identity(there) == before
    assert not [p for p in (root.parent / "out").iterdir() if p.name.startswith(PREFIX)]
    if keep is not None:
        keep.close()


def test_a_killed_snapshot_s_temporaries_go_with_the_next_snapshot(root: Path) -> None:
    out = root.parent / "out"
    left = abandon(out, PREFIX)
    assert len(left) == 2 and not (out / "out.tar.gz").exists()
    with writing(out, PREFIX) as alive:
        service(root).snapshot(ACCOUNT, out / "snap.tar.gz")
        assert all(p.exists() for p in alive)
    assert not any(p.exists() for p in left)
    assert sorted(p.name for p in out.iterdir()) == [
        "other.tar.gz",
        "snap.tar.gz",
        "snap.tar.gz.sha256",
    ]


@pytest.mark.parametrize("account", ["../shopuser", "shop user", "-rf", "", "a" * 33, "root/x"])
def test_an_invalid_account_is_refused(root: Path, account: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        service(root).snapshot(account, root.parent / "out" / "x.tar.gz")
    assert tree(root.parent / "out") == []


def test_a_missing_home_or_directory_and_a_directory_out_are_refused(root: Path) -> None:
    out = root.parent / "out"
    with pytest.raises(NotFoundError):
        service(root).snapshot("nosuchuser", out / "x.tar.gz")
    with pytest.raises(NotFoundError):
        service(root).snapshot(ACCOUNT, out / "missing" / "x.tar.gz")
    with pytest.raises(UsageError):
        service(root).snapshot(ACCOUNT, out)
    with pytest.raises(UsageError):
        service(root).snapshot(ACCOUNT, f"{out}/")
    assert tree(out) == []
