"""``csm restore``: a damaged or unsafe archive is refused before anything live changes; a
failure while swapping puts everything back; a good archive brings the install back exactly,
stale state removed and the lock kept."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm.backup import restore, staging
from csm.drill.build import DrillHost
from csm.errors import UnreadableInputError
from csm.store.lock import StateLock
from tests.backup.conftest import changed_since, leftovers, live_tree, rebuilt

EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "40"))
Change = Callable[[tarfile.TarInfo, bytes], list[tuple[tarfile.TarInfo, bytes]]]


def test_a_restore_brings_the_install_back(cli: Any, drill: DrillHost, backup: Path) -> None:
    state = drill.root / "var/lib/csm/state"
    config_before = drill.config_path.read_text()
    (state / "csm.lock").write_text("4242\n")
    changed_since(drill)
    done = cli("restore", str(backup), "--json")
    assert done.code == 0, done.err
    assert drill.config_path.read_text() == config_before
    conf_d = drill.config_path.parent / "conf.d"
    assert sorted(p.name for p in conf_d.iterdir()) == ["40-note.yaml"]
    assert (conf_d / "40-note.yaml").read_text() == "# kept in the backup\n"
    assert (
        not (state / "stale-file").exists() and str(state / "stale-file") in done.json()["removed"]
    )
    assert (state / "csm.lock").exists() and not leftovers(drill)
    assert cli("incidents", "list", "--json").json()["total"] == 6
    human = cli("restore", str(backup))
    assert human.out.strip() == f"restored from {backup}"


def test_a_running_daemon_refuses_the_restore(
    cli: Any, drill: DrillHost, backup: Path, unix_server: Any
) -> None:
    changed_since(drill)
    before = live_tree(drill)
    with unix_server(drill.root / "var/run/csm/control.sock", {"ok": True, "result": {}}):
        refused = cli("restore", str(backup))
    assert refused.code == 5 and "stop it first" in refused.err
    lock = StateLock(drill.root / "var/lib/csm/state/csm.lock").acquire()  # a starting daemon
    try:
        assert cli("restore", str(backup)).code == 5
    finally:
        lock.release()
    assert live_tree(drill) == before


def _drop(name: str) -> Change:
    return lambda info, data: [] if info.name == name else [(info, data)]


def _add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"x", **extra: Any) -> Change:
    def change(info: tarfile.TarInfo, body: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
        if info.name != "manifest.txt":
            return [(info, body)]
        added = tarfile.TarInfo(name)
        added.type = kind
        for key, value in extra.items():
            setattr(added, key, value)
        return [(added, data), (info, body)]

    return change


def _edit_manifest(old: bytes, new: bytes) -> Change:
    return lambda info, data: [
        (info, data.replace(old, new) if info.name == "manifest.txt" else data)
    ]


BAD_MEMBERS: dict[str, Change] = {
    "dot-dot": _add("state/../../escaped"),
    "absolute": _add("/etc/escaped"),
    "symlink": _add("state/evil", tarfile.SYMTYPE, linkname="/etc/passwd"),
    "hard link": _add("state/evil", tarfile.LNKTYPE, linkname="csm.yaml"),
    "fifo": _add("state/pipe", tarfile.FIFOTYPE),
    "duplicate": _add("csm.yaml"),
    "no manifest": _drop("manifest.txt"),
    "wrong schema": _edit_manifest(b"schema=1", b"schema=2"),
    "not listed": _add("state/extra-file"),
    "changed content": lambda info, data: [
        (info, data + b"#" if info.name == "csm.yaml" else data)
    ],
}


@pytest.mark.parametrize("damage", sorted(BAD_MEMBERS))
def test_an_unsafe_or_foreign_archive_is_refused_and_nothing_changes(
    cli: Any, drill: DrillHost, backup: Path, tmp_path: Path, damage: str
) -> None:
    changed_since(drill)
    before = live_tree(drill)
    bad = rebuilt(backup, tmp_path / f"{damage}.tar.gz", BAD_MEMBERS[damage])
    refused = cli("restore", str(bad), "--json")
    assert refused.code in (3, 8), refused.out
    assert "nothing was changed" in refused.json()["error"]
    assert live_tree(drill) == before and not (tmp_path / "escaped").exists()


def test_an_oversized_member_is_refused(
    cli: Any, drill: DrillHost, backup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = live_tree(drill)
    monkeypatch.setattr(staging, "MAX_MEMBER", 100)  # the real limit is 1 GiB
    refused = cli("restore", str(backup))
    assert refused.code == 8 and "over 100 bytes" in refused.err
    assert live_tree(drill) == before


@pytest.mark.parametrize("how", ["truncated", "flipped byte", "not gzip", "empty"])
def test_a_damaged_archive_is_refused(
    cli: Any, drill: DrillHost, backup: Path, tmp_path: Path, how: str
) -> None:
    changed_since(drill)
    before = live_tree(drill)
    data = backup.read_bytes()
    damaged = {
        "truncated": data[: len(data) * 2 // 3],
        "flipped byte": data[:200] + bytes([data[200] ^ 0x40]) + data[201:],
        "not gzip": b"this is not an archive\n" * 10,
        "empty": b"",
    }[how]
    bad = tmp_path / "damaged.tar.gz"
    bad.write_bytes(damaged)
    refused = cli("restore", str(bad))
    assert refused.code in (3, 8) and "refused" in refused.err
    assert live_tree(drill) == before


@pytest.mark.parametrize("failing", [1, 2, 3, 4, 5, 6, 7])
def test_a_failed_swap_puts_everything_back(
    cli: Any, drill: DrillHost, backup: Path, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    changed_since(drill)
    before = live_tree(drill)
    calls = []
    real = restore.rename

    def flaky(source: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == failing:
            raise OSError(28, "No space left on device")
        real(source, target)

    monkeypatch.setattr(restore, "rename", flaky)
    failed = cli("restore", str(backup))
    assert len(calls) == failing  # the restore stopped at the failure
    assert failed.code == 1 and "put back as it was" in failed.err
    assert live_tree(drill) == before and not leftovers(drill)


def test_a_symlink_among_the_targets_is_refused(
    cli: Any, drill: DrillHost, backup: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (drill.config_path.parent / "conf.d" / "link.yaml").symlink_to(elsewhere / "x.yaml")
    before = live_tree(drill)
    refused = cli("restore", str(backup))
    assert refused.code == 3 and "symbolic link" in refused.err
    assert live_tree(drill) == before


NAMES = st.text(st.sampled_from("ab./\\-_\x00\n é"), min_size=0, max_size=12)
KINDS = st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE])


@settings(max_examples=EXAMPLES * 5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(entries=st.lists(st.tuples(st.sampled_from(["", "state/", "conf.d/", "csm.yaml/", "../"]),
                                  NAMES, KINDS), max_size=6),
       manifest=st.booleans())  # fmt: skip
def test_any_archive_stages_inside_its_directory_or_is_refused(
    tmp_path_factory: pytest.TempPathFactory, entries: list[Any], manifest: bool
) -> None:
    where = tmp_path_factory.mktemp("fuzz")
    archive = where / "fuzz.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for prefix, name, kind in [*entries, *([("", "manifest.txt", tarfile.REGTYPE)] * manifest)]:
            info = tarfile.TarInfo(prefix + name)
            info.type, info.linkname = kind, "../../outside"
            body = b"schema=1\n" if name == "manifest.txt" else b"data"
            info.size = len(body) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(body) if kind == tarfile.REGTYPE else None)
    archive.write_bytes(gzip.compress(buffer.getvalue()))
    try:
        with staging.staged(archive, within=where) as found:  # an escape would land in `where`
            root = found.root.resolve()
            for path in found.root.rglob("*"):
                assert not path.is_symlink() and path.resolve().is_relative_to(root)
    except UnreadableInputError as exc:
        refused = exc.message
    else:
        refused = "refused: no"
    assert "refused" in refused
    assert sorted(p.name for p in where.iterdir()) == ["fuzz.tar.gz"]
