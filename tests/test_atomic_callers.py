"""The writers that go through csm.atomic keep what they did: the same bytes, mode and owner,
the same errors, and no temporary file left in the directory (none of these needs Exim)."""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from csm import atomic
from csm.config import snapshot
from csm.credentials import files as credential_files
from csm.drill import mailqueue as drill_queue
from csm.errors import CommandError, CsmError
from csm.mailqueue import spoolcopy
from csm.mailqueue.index import SpoolIndex

MSGID = "1xVGME-0007g9-0A"
ME = (os.getuid(), os.getgid())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_queued_message_goes_out_and_back_with_its_bytes_modes_and_owner(tmp_path: Path) -> None:
    spool = tmp_path / "spool" / "input"
    folder = spool / MSGID[5]
    folder.mkdir(parents=True)
    (folder / f"{MSGID}-D").write_bytes(b"body\n")
    (folder / f"{MSGID}-H").write_bytes(b"header\n")
    (folder / f"{MSGID}-D").chmod(0o640)
    (folder / f"{MSGID}-H").chmod(0o660)
    kept = tmp_path / "quarantine" / "queue" / MSGID
    copied = spoolcopy.copy_out(folder / f"{MSGID}-H", kept)
    assert copied.header_sha256 == hashlib.sha256(b"header\n").hexdigest()
    assert [mode(p) for p in sorted(kept.iterdir())] == [0o600, 0o600]
    for name in (f"{MSGID}-D", f"{MSGID}-H"):
        (folder / name).unlink()
    assert spoolcopy.copy_back(kept, MSGID, spool, copied) == folder / f"{MSGID}-H"
    assert sorted(os.listdir(folder)) == [f"{MSGID}-D", f"{MSGID}-H"]
    assert (folder / f"{MSGID}-D").read_bytes() == b"body\n"
    assert (mode(folder / f"{MSGID}-D"), mode(folder / f"{MSGID}-H")) == (0o640, 0o660)
    assert (folder / f"{MSGID}-H").stat().st_uid == copied.uid


def test_the_spool_write_returns_the_sha256_and_sets_mode_and_owner(tmp_path: Path) -> None:
    digest = spoolcopy.write(tmp_path / "held", b"a@b\n", 0o644, ME)
    assert digest == hashlib.sha256(b"a@b\n").hexdigest()
    assert (mode(tmp_path / "held"), os.listdir(tmp_path)) == (0o644, ["held"])


def test_a_rewritten_shadow_file_keeps_its_mode_and_owner(tmp_path: Path) -> None:
    shadow = tmp_path / "etc" / "shop.test" / "shadow"
    shadow.parent.mkdir(parents=True)
    shadow.write_text("info:$6$old:19000::::::\nsales:$6$x:19000::::::\n", encoding="utf-8")
    shadow.chmod(0o640)
    credential_files.set_shadow_hash(shadow, "info", "n3w", tmp_path / "b", date(2026, 11, 20))
    lines = shadow.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("info:$6$") and "$6$old" not in lines[0]
    assert lines[1] == "sales:$6$x:19000::::::"
    assert (mode(shadow), os.listdir(shadow.parent)) == (0o640, ["shadow"])


def test_a_shadow_file_that_cannot_be_rewritten_is_unchanged_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shadow = tmp_path / "shadow"
    shadow.write_text("info:$6$old:19000::::::\n", encoding="utf-8")

    def full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "write_bytes", full)
    with pytest.raises(CsmError, match="it is unchanged"):
        credential_files.set_shadow_hash(shadow, "info", "x", tmp_path / "b", date(2026, 11, 20))
    assert shadow.read_text(encoding="utf-8") == "info:$6$old:19000::::::\n"


def test_the_config_snapshot_is_saved_private_and_read_back(tmp_path: Path) -> None:
    main = tmp_path / "csm.yaml"
    main.write_text("mail: {}\n", encoding="utf-8")
    snapshot.save(main, tmp_path / "conf.d", {}, {"mail.mta": "exim"})
    saved = snapshot.location(main)
    assert mode(saved) == 0o600
    assert snapshot.values(main, tmp_path / "conf.d", {}) == {"mail.mta": "exim"}
    assert sorted(os.listdir(tmp_path)) == sorted(["csm.yaml", saved.name])


def test_a_config_snapshot_that_cannot_be_saved_is_silently_nothing(tmp_path: Path) -> None:
    main = tmp_path / "csm.yaml"
    main.write_text("mail: {}\n", encoding="utf-8")
    snapshot.location(main).mkdir()  # a directory where the snapshot goes: no rename over it
    snapshot.save(main, tmp_path / "conf.d", {}, {"mail.mta": "exim"})
    assert sorted(os.listdir(tmp_path)) == sorted(["csm.yaml", snapshot.location(main).name])
    assert snapshot.values(main, tmp_path / "conf.d", {}) is None


def test_the_spool_index_is_saved_private_and_best_effort(tmp_path: Path) -> None:
    spool = tmp_path / "input"
    spool.mkdir()
    index = SpoolIndex.load(str(tmp_path / "queue-index"))
    index.refresh(str(spool))
    index.changed = True
    index.save()
    assert (mode(tmp_path / "queue-index"), index.changed) == (0o600, False)
    assert sorted(os.listdir(tmp_path)) == ["input", "queue-index"]
    nowhere = SpoolIndex(str(tmp_path / "missing" / "queue-index"))
    nowhere.changed = True
    nowhere.save()  # the directory is not there: nothing, no error
    assert nowhere.changed


def test_the_drill_rewrites_line_2_keeping_mode_and_owner(tmp_path: Path) -> None:
    header = tmp_path / f"{MSGID}-H"
    header.write_bytes(b"1xVGME-0007g9-0A-H\nroot 0 0\n<a@b>\n")
    header.chmod(0o640)
    drill_queue._replace_line2(header, b"shop 1001 1001\n")
    assert header.read_bytes() == b"1xVGME-0007g9-0A-H\nshop 1001 1001\n<a@b>\n"
    assert (mode(header), os.listdir(tmp_path)) == (0o640, [header.name])
    assert header.stat().st_uid == ME[0]
    with pytest.raises(CommandError, match="line 2"):
        drill_queue._replace_line2(header, b"other 1 1\n")
