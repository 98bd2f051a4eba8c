"""One finder for a log's rotated set: the log and what rotation made of it, regular files only,
oldest first, the log's name taken literally (glob characters and all)."""

from __future__ import annotations

import os
from pathlib import Path

from csm.logtail import files
from csm.scan import timeline

ROTATED = ["x.3.gz", "x.2.gz", "x.1", "x-20261119.gz", "x-20261120", "x"]


def touch(directory: Path, *names: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_bytes(b"line\n")


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_the_set_is_the_log_and_its_rotations_oldest_first(tmp_path: Path) -> None:
    touch(tmp_path, *reversed(ROTATED), "x.bak", "xy", "x.1.swp", "y.1")
    (tmp_path / "x.4").mkdir()  # not a regular file
    assert names(files.rotated_set(tmp_path / "x")) == ROTATED


def test_the_order_is_the_one_the_reader_uses(tmp_path: Path) -> None:
    touch(tmp_path, *ROTATED)
    found = files.rotated_set(tmp_path / "x")
    assert [f.path for f in files.ordered(found)] == found


def test_glob_characters_in_the_name_are_taken_literally(tmp_path: Path) -> None:
    log = "mail[1].log"
    touch(tmp_path, log, f"{log}.1", f"{log}.2.gz", f"{log}-20261120", "mail1.log", "mail1.log.1")
    assert names(files.rotated_set(tmp_path / log)) == [
        f"{log}.2.gz", f"{log}.1", f"{log}-20261120", log,
    ]  # fmt: skip


def test_a_missing_log_or_directory_is_an_empty_set(tmp_path: Path) -> None:
    touch(tmp_path, "other")
    assert files.rotated_set(tmp_path / "x") == []
    assert files.rotated_set(tmp_path / "nowhere" / "x") == []


def test_only_rotated_files_are_found_when_the_log_itself_is_gone(tmp_path: Path) -> None:
    touch(tmp_path, "x.1", "x.2.gz")
    assert names(files.rotated_set(tmp_path / "x")) == ["x.2.gz", "x.1"]


def test_a_symlinked_rotation_to_a_directory_is_left_out(tmp_path: Path) -> None:
    touch(tmp_path, "x")
    (tmp_path / "d").mkdir()
    os.symlink(tmp_path / "d", tmp_path / "x.1")
    assert names(files.rotated_set(tmp_path / "x")) == ["x"]


def test_the_timeline_escapes_the_names_of_both_logs(tmp_path: Path) -> None:
    touch(tmp_path / "[e]", "exim_mainlog", "exim_mainlog.1", "e")
    touch(tmp_path, "mail[log]", "mail[log]-20261120.gz", "maill", "mailo.1")
    found = timeline.default_logs(tmp_path / "[e]" / "exim_mainlog", tmp_path / "mail[log]")
    assert [str(p.relative_to(tmp_path)) for p in found] == [
        "[e]/exim_mainlog.1", "[e]/exim_mainlog", "mail[log]-20261120.gz", "mail[log]",
    ]  # fmt: skip
