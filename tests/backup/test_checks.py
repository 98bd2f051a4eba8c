"""What ``backup verify`` and ``restore`` demand of an archive beyond a well-formed tar: sums
for every file (an archive without them is not ok, and restores only with
``--accept-unsummed``, recorded), a configuration CSM's loader accepts, a store that is a CSM
store this CSM knows; and a restore that can itself be undone from the backup it takes first."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

import pytest

from csm.drill.build import DrillHost
from tests.backup.conftest import changed_since, forged, live_tree, replacing_member
from tests.conftest import dropin

STATE = "var/lib/csm/state"


def keep(info: tarfile.TarInfo, data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
    return [(info, data)]


def tiny(tmp_path: Path) -> Path:
    """The review's 134-byte archive: a manifest with no sums and an empty ``state/``."""
    out = tmp_path / "tiny.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        state = tarfile.TarInfo("state")
        state.type = tarfile.DIRTYPE
        tar.addfile(state)
        body = b"backup_ts=2026-01-01T00:00:00Z\nschema=1\n"
        manifest = tarfile.TarInfo("manifest.txt")
        manifest.size = len(body)
        tar.addfile(manifest, io.BytesIO(body))
    return out


def test_an_archive_without_sums_fails_verify_and_is_not_restored(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    before = live_tree(drill)
    bare = tiny(tmp_path)
    checked = cli("backup", "verify", str(bare), "--json")
    assert checked.code == 1 and not checked.json()["ok"]
    assert "lists no sha256 sums" in checked.json()["problems"][0]
    refused = cli("restore", str(bare), "--json")
    assert refused.code == 3 and "nothing was changed" in refused.json()["error"]
    assert "--accept-unsummed" in refused.json()["fix"]
    # Accepting an archive without sums does not let it take the store away.
    accepted = cli("restore", str(bare), "--accept-unsummed", "--json")
    assert accepted.code == 3 and "would remove the live store" in accepted.json()["error"]
    assert live_tree(drill) == before
    assert cli("incidents", "list", "--json").json()["total"] == 6


def test_a_tampered_config_without_sums_needs_the_flag_which_is_recorded(
    cli: Any, drill: DrillHost, backup: Path, tmp_path: Path
) -> None:
    text = drill.config_path.read_bytes() + b"# tampered\n"
    bare = forged(backup, tmp_path / "bare.tar.gz", replacing_member("csm.yaml", text),
                  sums=False)  # fmt: skip
    before = live_tree(drill)
    assert cli("restore", str(bare)).code == 3
    assert live_tree(drill) == before
    done = cli("restore", str(bare), "--accept-unsummed", "--json")
    assert done.code == 0, done.err
    assert done.json()["accepted_unsummed"] and drill.config_path.read_bytes() == text
    audit = [json.loads(line) for line in (drill.root / "var/log/csm/audit.jsonl").open()]
    restored = [e for e in audit if e["action"] == "backup.restore"][-1]
    assert restored["details"]["accepted_unsummed"] is True


CONFIGS = {
    "not YAML": ("csm.yaml", b"paths: [unclosed\n", "(yaml)"),
    "unknown key": ("csm.yaml", b"no_such_setting: 1\n", "no_such_setting"),
    "bad drop-in": ("conf.d/90-bad.yaml", b"paths:\n  state_dir: [1, 2]\n", "paths.state_dir"),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_a_configuration_csm_cannot_load_is_refused_with_the_loader_s_errors(
    cli: Any, drill: DrillHost, backup: Path, tmp_path: Path, case: str
) -> None:
    name, text, shown = CONFIGS[case]
    bad = forged(backup, tmp_path / "bad.tar.gz", replacing_member(name, text))
    before = live_tree(drill)
    checked = cli("backup", "verify", str(bad), "--json")
    assert checked.code == 1 and any(shown in p for p in checked.json()["problems"])
    refused = cli("restore", str(bad), "--json")
    assert refused.code == 3, refused.out
    error = refused.json()["error"]
    assert "does not load" in error and shown in error and "nothing was changed" in error
    assert str(tmp_path) not in error.replace(str(bad), "")  # staged paths are not shown
    assert live_tree(drill) == before
    assert cli("validate").code == 0  # every command still runs


def _store(path: Path, script: str) -> bytes:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.close()
    return path.read_bytes()


STORES = {
    "not a database": (None, "integrity"),
    "not a CSM store": ("CREATE TABLE t (x);", "not a CSM store"),
    "from a newer CSM": (
        "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT);"
        "INSERT INTO schema_migrations VALUES ('9999_from_the_future', '2030-01-01');",
        "newer CSM",
    ),
}


@pytest.mark.parametrize("case", sorted(STORES))
def test_a_store_this_csm_cannot_use_is_refused(
    cli: Any, drill: DrillHost, backup: Path, tmp_path: Path, case: str
) -> None:
    script, shown = STORES[case]
    data = b"not a database " * 100 if script is None else _store(tmp_path / "s.db", script)
    bad = forged(backup, tmp_path / "bad.tar.gz", replacing_member("state/csm.db", data))
    before = live_tree(drill)
    checked = cli("backup", "verify", str(bad), "--json")
    assert checked.code == 1 and any(shown in p for p in checked.json()["problems"])
    refused = cli("restore", str(bad), "--json")
    assert refused.code == 3 and shown in refused.json()["error"]
    assert live_tree(drill) == before
    assert cli("incidents", "list", "--json").json()["total"] == 6


def test_a_restore_can_be_undone_from_the_backup_it_takes_first(
    cli: Any, drill: DrillHost, backup: Path
) -> None:
    changed_since(drill)
    dropin(drill, "60-after.yaml", "# made after the backup\n")
    config_before = drill.config_path.read_text()
    done = cli("restore", str(backup), "--json")
    assert done.code == 0, done.err
    saved = Path(done.json()["pre_restore_backup"])
    assert saved.parent == drill.root / "var/lib/csm/restore-backups"
    assert saved.name.startswith("csm-pre-restore-") and saved.name.endswith("Z.tar.gz")
    assert saved.parent.stat().st_mode & 0o777 == 0o700 and saved.stat().st_mode & 0o777 == 0o600
    checked = cli("backup", "verify", str(saved), "--json")
    assert checked.code == 0 and checked.json()["recorded"]  # recorded in the restored store
    assert checked.json()["sha256"] == done.json()["pre_restore_sha256"]
    audit = (drill.root / "var/log/csm/audit.jsonl").read_text()
    assert f'"pre_restore_backup": "{saved}"' in audit
    assert not (drill.config_path.parent / "conf.d/60-after.yaml").exists()
    human = cli("restore", str(backup))
    assert "csm-pre-restore-" in human.err and "to undo: csm restore" in human.err
    undone = cli("restore", str(saved))
    assert undone.code == 0, undone.err
    assert drill.config_path.read_text() == config_before
    assert (drill.config_path.parent / "conf.d/60-after.yaml").exists()
    assert (drill.root / STATE / "stale-file").exists()
    assert cli("incidents", "list", "--json").json()["total"] == 6
