"""Backups of the simulated host: its config, drop-ins and state, and a hash of all of them."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import Any

from csm.drill.build import DrillHost

# Not the install's state: the CLI's config snapshot (rewritten by any command after a config
# change) and the lock's content (the PID of whoever took it last).
NOT_STATE = {".csm-fast"}


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
