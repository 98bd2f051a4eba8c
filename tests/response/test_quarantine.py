"""Quarantine and restore round-trip exactly; restore never overwrites; after quarantine a new
scan of the account's files is clean and complete."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

from csm.drill.build import DrillHost
from csm.drill.incidents import WEBSHELL
from tests.conftest import dropin


def test_round_trip_preserves_content_and_metadata(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[1].user
    real = drill.root / "home" / user / WEBSHELL
    os.chown(real, 1234, 5678)
    os.chmod(real, 0o640)
    os.utime(real, ns=(1_700_000_000_123_456_789, 1_690_000_000_987_654_321))
    content = real.read_bytes()  # (reading may move the access time: stat after it)
    before = os.stat(real)
    put = cli("quarantine", f"/home/{user}/{WEBSHELL}", "--reason", "webshell", "--json")
    assert put.code == 0, put.err
    entry = put.json()
    assert not real.exists()
    assert entry["sha256"] == hashlib.sha256(content).hexdigest()
    assert [f["id"] for f in cli("quarantine", "list", "--json").json()["items"]] == [entry["id"]]
    scan = cli("scan", user, "--checks", "files", "--json").json()
    assert scan["clean"] and scan["complete"]
    back = cli("quarantine", "restore", entry["id"], "--json")
    assert back.code == 0, back.err
    after = os.stat(real)
    assert real.read_bytes() == content
    assert (after.st_uid, after.st_gid, after.st_mode, after.st_mtime_ns, after.st_atime_ns) == (
        before.st_uid, before.st_gid, before.st_mode, before.st_mtime_ns, before.st_atime_ns,
    )  # fmt: skip
    assert back.json()["restored_at"]
    assert cli("quarantine", "restore", entry["id"]).code == 3  # once only


def test_restore_refuses_to_overwrite_a_new_file(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[1].user
    path = f"/home/{user}/{WEBSHELL}"
    entry = cli("quarantine", path, "--json").json()
    replacement = drill.root / path.lstrip("/")
    replacement.write_text("the customer's new file\n")
    refused = cli("quarantine", "restore", entry["id"], "--json")
    assert refused.code == 3
    assert replacement.read_text() == "the customer's new file\n"


def test_only_regular_files_and_clear_errors(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[0].user
    home = drill.root / "home" / user
    (home / "public_html" / "link.php").symlink_to(home / "public_html" / "index.php")
    assert cli("quarantine", f"/home/{user}/public_html/link.php").code == 3
    assert cli("quarantine", f"/home/{user}/public_html").code == 3
    assert cli("quarantine", f"/home/{user}/nothing-here.php").code == 1
    assert cli("quarantine", "relative/path.php").code == 2
    assert cli("quarantine", "restore", "q_000000000000").code == 1
    assert (home / "public_html" / "link.php").is_symlink()


def test_a_name_that_is_not_utf8_round_trips(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[0].user
    directory = os.fsencode(drill.root / "home" / user / "public_html")
    name = b"odd-\xff.php"
    with open(os.path.join(directory, name), "wb") as stream:
        stream.write(b"<?php echo 1;")
    host_path = os.fsdecode(b"/home/" + user.encode() + b"/public_html/" + name)
    entry = cli("quarantine", host_path, "--json").json()
    assert base64.b64decode(entry["path_b64"]).endswith(name)
    assert cli("quarantine", "restore", entry["id"]).code == 0
    assert os.path.exists(os.path.join(directory, name))


def test_auto_response_quarantines_only_after_a_complete_scan(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[1].user
    shell = drill.root / "home" / user / WEBSHELL
    assert cli("scan", user, "--checks", "files", "--json").json()["quarantined"] == []
    assert shell.exists()  # off by default
    dropin(drill, "50-auto.yaml", "auto_response:\n  quarantine_files: true\n")
    big = drill.root / "home" / user / "public_html" / "big.bin"
    big.write_bytes(b"x" * ((16 << 20) + 1))
    incomplete = cli("scan", user, "--checks", "files", "--json").json()
    assert not incomplete["complete"] and incomplete["quarantined"] == [] and shell.exists()
    big.unlink()
    done = cli("scan", user, "--checks", "files", "--json").json()
    assert done["complete"] and len(done["quarantined"]) == 1 and not shell.exists()
    assert done["recent_php"]  # the drill's files were written just now


def test_system_files_are_never_quarantined(cli: Any, drill: DrillHost) -> None:
    passwd = drill.root / "etc/passwd"
    before = passwd.read_bytes()
    assert cli("quarantine", "/etc/passwd").code == 3
    assert cli("quarantine", f"/home/{drill.accounts[0].user}/../../etc/passwd").code == 3
    assert passwd.read_bytes() == before


def test_a_restore_without_its_directory_is_a_clear_error(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[1].user
    entry = cli("quarantine", f"/home/{user}/{WEBSHELL}", "--json").json()
    directory = (drill.root / "home" / user / WEBSHELL).parent
    directory.rmdir()
    failed = cli("quarantine", "restore", entry["id"], "--json")
    assert failed.code == 1 and "stays in the quarantine" in failed.out
    directory.mkdir()
    assert cli("quarantine", "restore", entry["id"]).code == 0
