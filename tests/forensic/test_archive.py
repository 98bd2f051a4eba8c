"""The archive writer on its own: unsafe member names refused, a failed write leaves nothing
behind (not even a temp file), an existing archive is replaced whole only when forced (and a
file that is already there is otherwise never replaced), and a damaged archive fails the
sidecar check the runbook runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from csm.errors import RefusedError
from csm.forensic import archive
from csm.forensic.staging import Staging, checked_name

STAMP = 1_795_000_000


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "", "a\nb", "a\\b", "schema/.."]
)
def test_unsafe_member_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unsafe archive member name"):
        checked_name(name)


def test_safe_member_names_pass() -> None:
    for name in ("manifest.txt", "schema/shop_wp1@x-routines.sql.err", "files/recent-mtimes.tsv"):
        assert checked_name(name) == name


def staged(tmp_path: Path, members: dict[str, bytes]) -> Staging:
    work = tmp_path / "work"
    work.mkdir()
    staging = Staging(work)
    for name, data in members.items():
        staging.write(name, data)
    return staging


def test_a_failed_write_leaves_the_old_archive_and_no_temp_file(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "snap.tar.gz"
    out.write_bytes(b"the previous archive")
    staging = staged(tmp_path, {"b.txt": b"b", "manifest.txt": b"account=x\n"})
    members = staging.members()
    members[0][1].unlink()  # a staged member vanishes mid-write
    with pytest.raises(FileNotFoundError):
        archive.write(members, out, STAMP)
    assert out.read_bytes() == b"the previous archive"
    assert sorted(p.name for p in out_dir.iterdir()) == ["snap.tar.gz"]


def test_members_come_sorted_with_the_manifest_last_and_a_damaged_copy_fails_the_check(
    tmp_path: Path,
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    staging = staged(tmp_path, {"manifest.txt": b"m\n", "z/b": b"2", "a/c": b"1", "n": b""})
    written = archive.write(staging.members(), out_dir / "snap.tar.gz", STAMP)
    listed = subprocess.run(["tar", "-tzf", str(written.path)], capture_output=True, text=True,
                            check=True).stdout.split()  # fmt: skip
    assert listed == ["a/c", "n", "z/b", "manifest.txt"]
    check = ["sha256sum", "-c", "snap.tar.gz.sha256"]
    assert subprocess.run(check, cwd=out_dir, capture_output=True, check=False).returncode == 0
    data = bytearray(written.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    written.path.write_bytes(bytes(data))
    assert subprocess.run(check, cwd=out_dir, capture_output=True, check=False).returncode == 1


def test_a_member_staged_twice_is_a_bug(tmp_path: Path) -> None:
    staging = staged(tmp_path, {"a": b"1"})
    with pytest.raises(ValueError, match="staged twice"):
        staging.write("a", b"2")


def test_what_is_already_there_is_replaced_only_when_forced(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out, sidecar = out_dir / "snap.tar.gz", out_dir / "snap.tar.gz.sha256"
    out.write_bytes(b"the previous archive")
    members = staged(tmp_path, {"manifest.txt": b"m\n"}).members()
    with pytest.raises(RefusedError, match="appeared while the snapshot was written"):
        archive.write(members, out, STAMP)
    assert out.read_bytes() == b"the previous archive"
    assert sorted(p.name for p in out_dir.iterdir()) == ["snap.tar.gz"]
    out.unlink()
    sidecar.write_bytes(b"the previous sidecar")
    with pytest.raises(RefusedError, match="is complete, sha256"):
        archive.write(members, out, STAMP)
    assert sidecar.read_bytes() == b"the previous sidecar"
    written = archive.write(members, out, STAMP, force=True)
    assert sidecar.read_text() == f"{written.sha256}  snap.tar.gz\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["snap.tar.gz", "snap.tar.gz.sha256"]
