"""Backups of the simulated host: its config, drop-ins and state, and a hash of all of them."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import signal
import socket
import stat
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from csm import atomic
from csm.drill.build import DrillHost
from tests.conftest import dropin

# Not the install's state: the CLI's config snapshot (rewritten by any command after a config
# change) and the lock's content (the PID of whoever took it last).
NOT_STATE = {".csm-fast"}


@pytest.fixture
def backup(cli: Any, drill: DrillHost, tmp_path: Path) -> Path:
    dropin(drill, "40-note.yaml", "# kept in the backup\n")
    out = tmp_path / "backups" / "before.tar.gz"
    assert cli("backup", str(out)).code == 0
    return out


def changed_since(drill: DrillHost) -> None:
    """What an operator did after the backup: edited the config, a drop-in, the state."""
    drill.config_path.write_text(drill.config_path.read_text() + "# edited after the backup\n")
    dropin(drill, "40-note.yaml", "# changed\n")
    dropin(drill, "50-new.yaml", "# new\n")
    (drill.root / "var/lib/csm/state/stale-file").write_text("made after the backup\n")
    (drill.root / "var/lib/csm/state/csm.lock").write_text("")  # as a daemon that ran leaves it


def live_tree(host: DrillHost) -> dict[str, str]:
    """Every entry of the install (config dir and state dir): kind, mode and content hash."""
    found: dict[str, str] = {}
    for top in (host.config_path.parent, host.root / "var/lib/csm/state"):
        for path in sorted(top.rglob("*")):
            if path.name in NOT_STATE:
                continue
            if path.name == "csm.lock":
                found[str(path.relative_to(host.root))] = "the lock"
                continue
            info = path.lstat()
            kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
            content = hashlib.sha256(path.read_bytes()).hexdigest() if kind == "file" else ""
            found[str(path.relative_to(host.root))] = f"{kind} {oct(info.st_mode)} {content}"
    return found


def members(archive: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(archive, "r:gz") as tar:
        return tar.getmembers()


def rebuilt(archive: Path, out: Path, change: Any) -> Path:
    """A copy of ``archive`` with each member passed through ``change(info, data)``, which
    returns the (info, data) pairs to write instead (none to drop it)."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as target:
        for info in source.getmembers():
            stream = source.extractfile(info)
            data = stream.read() if stream else b""
            for new_info, new_data in change(info, data):
                new_info.size = len(new_data) if new_info.isreg() else 0
                target.addfile(new_info, io.BytesIO(new_data) if new_info.isreg() else None)
    return out


def leftovers(host: DrillHost) -> list[str]:
    """The restore's own temporary copies, if any were left behind."""
    return [
        name
        for top in (host.config_path.parent, host.root / "var/lib/csm/state")
        for name in os.listdir(top)
        if name.startswith(".csm-restore-")
    ]


def occupy(path: Path, kind: str) -> Any:
    """Put ``kind`` at ``path``: what a write must not replace; returns what must stay (a
    listening socket must stay open)."""
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        return server
    elif kind == "character device":  # the review's `--out /dev/null`, made in tmp_path
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device node needs CAP_MKNOD")
    elif kind == "symlink":
        target = path.with_name(path.name + ".target")
        target.write_bytes(b"the link's target\n")
        path.symlink_to(target)
    elif kind == "dangling symlink":
        path.symlink_to(path.with_name("nowhere"))
    return None


SPECIAL = ["fifo", "socket", "character device", "symlink", "dangling symlink"]


def identity(path: Path) -> tuple[int, int, int]:
    """What is at ``path`` (not followed): its inode, mode and size."""
    info = path.lstat()
    return info.st_ino, info.st_mode, info.st_size


def _leave_and_die(directory: str, prefix: str) -> None:
    """A writer killed mid-write: its scratch directory and half-written temporary stay."""
    with atomic.scratch(Path(directory), prefix) as scratch:
        (scratch / "csm.db").write_bytes(b"a store copy being made")
        with atomic.replacing(Path(directory, "out.tar.gz"), prefix, replaces="nothing") as out:
            out.write(b"half an archive")
            out.flush()
            os.kill(os.getpid(), signal.SIGKILL)


def abandon(directory: Path, prefix: str) -> list[Path]:
    """Run a writer in another process and kill it mid-write; what it left in ``directory``."""
    child = multiprocessing.get_context("fork").Process(
        target=_leave_and_die, args=(str(directory), prefix)
    )
    child.start()
    child.join()
    assert child.exitcode == -signal.SIGKILL
    return sorted(p for p in directory.iterdir() if p.name.startswith(f"{prefix}{child.pid}-"))


def _hold(directory: str, prefix: str, holding: Any, release: Any) -> None:
    with (
        atomic.scratch(Path(directory), prefix),
        atomic.replacing(Path(directory, "other.tar.gz"), prefix),
    ):
        holding.set()
        release.wait()


@contextmanager
def writing(directory: Path, prefix: str) -> Iterator[list[Path]]:
    """Another writer, alive, in the middle of its write while the block runs: its temporaries."""
    context = multiprocessing.get_context("fork")
    holding, release = context.Event(), context.Event()
    child = context.Process(target=_hold, args=(str(directory), prefix, holding, release))
    child.start()
    try:
        assert holding.wait(30)
        yield sorted(p for p in directory.iterdir() if p.name.startswith(f"{prefix}{child.pid}-"))
    finally:
        release.set()
        child.join()


def forged(archive: Path, out: Path, change: Any, *, sums: bool = True) -> Path:
    """``rebuilt`` with ``change``, and a manifest that matches the result: what someone who
    can compute sha256 writes (``sums=False``: the manifest lists none, as the Go CSM's)."""
    with tarfile.open(archive, "r:gz") as source:
        entries = []
        for info in source.getmembers():
            stream = source.extractfile(info)
            entries += change(info, stream.read() if stream else b"")
    head = next(d for i, d in entries if i.name == "manifest.txt").decode().splitlines()
    lines = [line for line in head if not line.startswith("file=")]
    if sums:
        lines += [
            f'file="{i.name}" size={len(d)} sha256={hashlib.sha256(d).hexdigest()}'
            for i, d in entries
            if i.isreg() and i.name != "manifest.txt"
        ]
    body = "".join(f"{line}\n" for line in lines).encode()
    entries = [e for e in entries if e[0].name != "manifest.txt"]
    entries.append((tarfile.TarInfo("manifest.txt"), body))
    with tarfile.open(out, "w:gz", format=tarfile.GNU_FORMAT) as target:
        for info, data in entries:
            info.size = len(data) if info.isreg() else 0
            target.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out


def replacing_member(name: str, data: bytes) -> Any:
    """A change that gives member ``name`` new content (adding it when absent)."""

    def change(info: tarfile.TarInfo, body: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
        if info.name == "manifest.txt":
            added = tarfile.TarInfo(name)
            return [(added, data), (info, body)]
        return [] if info.name == name else [(info, body)]

    return change
