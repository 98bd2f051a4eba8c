"""The archive never lands in the account's home: not directly, not through a symlink, not
through a symlinked parent, not in the home's symlink target.  Refused before anything is
read or written.  Bad account names and missing homes are refused the same way."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from csm import mysql
from csm.clock import FixedClock
from csm.errors import InvalidIdentifierError, NotFoundError, RefusedError, UsageError
from csm.forensic.snapshot import Forensics
from csm.host import Host

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


def test_an_out_path_beside_the_home_is_allowed(root: Path) -> None:
    out = root / "home" / f"{ACCOUNT}-evidence" / "snap.tar.gz"  # a prefix, not inside
    out.parent.mkdir()
    result = Forensics(Host(root), never, FixedClock(datetime(2026, 11, 21, tzinfo=UTC))).snapshot(
        ACCOUNT, os.path.relpath(out)
    )
    assert result.path == out and out.is_file()
    assert (out.parent / "snap.tar.gz.sha256").is_file()


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
