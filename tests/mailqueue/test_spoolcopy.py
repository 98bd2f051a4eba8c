"""A removed message's copy goes into the quarantine's directories, which are always 0700,
whichever command made them first and however loose they were left."""

from __future__ import annotations

import stat
from pathlib import Path

from csm.mailqueue.spoolcopy import copy_out

MSGID = "1xVGME-0007g9-0A"


def spooled(tmp_path: Path) -> Path:
    folder = tmp_path / "spool" / "input" / MSGID[5]
    folder.mkdir(parents=True)
    (folder / f"{MSGID}-D").write_bytes(b"body\n")
    header = folder / f"{MSGID}-H"
    header.write_bytes(b"header\n")
    return header


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_queue_quarantine_is_made_private(tmp_path: Path) -> None:
    quarantine = tmp_path / "opt" / "csm" / "quarantine"
    copy_out(spooled(tmp_path), quarantine / "queue" / MSGID)
    assert [mode(d) for d in (quarantine, quarantine / "queue", quarantine / "queue" / MSGID)] == [
        0o700, 0o700, 0o700,
    ]  # fmt: skip


def test_a_looser_quarantine_is_made_private_again(tmp_path: Path) -> None:
    quarantine = tmp_path / "quarantine"
    (quarantine / "queue").mkdir(parents=True)
    quarantine.chmod(0o755)
    (quarantine / "queue").chmod(0o777)
    copy_out(spooled(tmp_path), quarantine / "queue" / MSGID)
    assert mode(quarantine) == mode(quarantine / "queue") == 0o700
    assert (quarantine / "queue" / MSGID / f"{MSGID}-H").read_bytes() == b"header\n"
