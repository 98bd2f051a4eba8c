"""csm.atomic, the one way CSM writes a file: whole or not at all, with its mode and owner, the
file and its directory fsynced; a failure leaves the old file and no temporary behind."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from csm import atomic

ROOT = os.geteuid() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_bytes_are_written_with_their_mode_owner_and_sha256(tmp_path: Path) -> None:
    target = tmp_path / "held"
    owner = (os.getuid(), os.getgid())
    digest = atomic.write_bytes(target, b"one\ntwo\n", mode=0o644, owner=owner, sha256=True)
    assert target.read_bytes() == b"one\ntwo\n"
    assert digest == hashlib.sha256(b"one\ntwo\n").hexdigest()
    assert mode(target) == 0o644
    assert (target.stat().st_uid, target.stat().st_gid) == owner
    assert sorted(os.listdir(tmp_path)) == ["held"]  # in the directory, no temporary beside it


def test_a_file_is_private_unless_told_and_no_sha256_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "state"
    target.write_bytes(b"old")
    target.chmod(0o666)
    assert atomic.write_bytes(target, b"new") is None
    assert (target.read_bytes(), mode(target)) == (b"new", 0o600)


def test_the_mode_is_exact_whatever_the_umask(tmp_path: Path) -> None:
    before = os.umask(0o077)
    try:
        atomic.write_bytes(tmp_path / "f", b"x", mode=0o755)
    finally:
        os.umask(before)
    assert mode(tmp_path / "f") == 0o755


@pytest.mark.skipif(not ROOT, reason="giving a file away takes root")
def test_another_owner_is_given_before_the_mode_so_set_id_bits_stay(tmp_path: Path) -> None:
    target = tmp_path / "spool-H"
    atomic.write_bytes(target, b"x", mode=0o2750, owner=(1234, 5678))
    info = target.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 5678, 0o2750)


def test_a_stream_gets_its_mode_and_owner(tmp_path: Path) -> None:
    target = tmp_path / "copy"
    with atomic.replacing(target, mode=0o640, owner=(os.getuid(), os.getgid())) as stream:
        stream.write(b"part one, ")
        stream.write(b"part two")
    assert target.read_bytes() == b"part one, part two"
    assert mode(target) == 0o640


def test_the_directory_is_synced_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[tuple[Path, bool]] = []
    target = tmp_path / "f"
    monkeypatch.setattr(atomic, "sync_directory", lambda d: synced.append((d, target.exists())))
    atomic.write_bytes(target, b"x")
    assert synced == [(tmp_path, True)]


def test_a_failed_stream_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "index"
    target.write_bytes(b"old")

    def interrupted() -> None:
        with atomic.replacing(target) as stream:
            stream.write(b"half of the new")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted()
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["index"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "shadow"
    target.write_bytes(b"old")
    target.chmod(0o644)

    def fail(_: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="No space"):
        atomic.write_bytes(target, b"new", mode=0o640)
    assert (target.read_bytes(), mode(target)) == (b"old", 0o644)
    assert os.listdir(tmp_path) == ["shadow"]


def test_a_failed_chown_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "passwd"
    target.write_bytes(b"old")

    def refuse(*_: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "fchown", refuse)
    with pytest.raises(PermissionError):
        atomic.write_bytes(target, b"new", owner=(0, 0))
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["passwd"]


def test_only_a_regular_file_is_replaced_when_so_told(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(FileExistsError):
        atomic.write_bytes(tmp_path / "d", b"x", replaces="regular")
    assert sorted(os.listdir(tmp_path)) == ["d"]
