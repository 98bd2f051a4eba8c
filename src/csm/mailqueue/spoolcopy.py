"""A queued message's spool files copied out to the quarantine (before Exim removes it) and back
into the spool (a restore): same id, bytes, owner and mode; every write atomic (a temporary
file, fsync, rename), every copy checked by its sha256."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from csm import atomic
from csm.errors import CsmError
from csm.mailqueue import spoolfiles

PRIVATE = 0o700  # the quarantine's directories: root's only


@dataclass(frozen=True, slots=True)
class Copied:
    subdir: str  # the split-spool subdirectory ("" for a flat spool)
    header_sha256: str
    data_sha256: str
    uid: int
    gid: int
    header_mode: int
    data_mode: int


def copy_out(header: Path, into: Path) -> Copied:
    """Copy ``<id>-H`` and its ``<id>-D`` into the directory ``into`` (0700, files 0600)."""
    msgid = header.name[:-2]
    data = header.with_name(f"{msgid}-D")
    header_info, data_info = header.stat(), data.stat()
    private_dir(into)
    header_sum = write(into / header.name, spoolfiles.read(header), 0o600)
    data_sum = write(into / data.name, spoolfiles.read(data), 0o600)
    subdir = header.parent.name if header.parent.name != "input" else ""
    return Copied(
        subdir,
        header_sum,
        data_sum,
        header_info.st_uid,
        header_info.st_gid,
        header_info.st_mode & 0o7777,
        data_info.st_mode & 0o7777,
    )


def private_dir(into: Path) -> None:
    """``into`` is ``<quarantine_dir>/queue/<id>``: those three directories made 0700, or made
    0700 again when they are looser (made by hand, by another command, by an older CSM)."""
    for directory in (into.parent.parent, into.parent, into):
        directory.mkdir(mode=PRIVATE, parents=True, exist_ok=True)
        if stat.S_IMODE(directory.stat().st_mode) & ~PRIVATE:
            os.chmod(directory, PRIVATE)


def copy_back(kept_dir: Path, msgid: str, spool_input: Path, copied: Copied) -> Path:
    """Put the message's files back into the spool (``-D`` first: Exim lists by ``-H``)."""
    target = spool_input / copied.subdir if copied.subdir else spool_input
    if not target.is_dir():
        raise CsmError(f"the spool directory {target} does not exist; nothing was restored")
    pairs = (
        (f"{msgid}-D", copied.data_sha256, copied.data_mode),
        (f"{msgid}-H", copied.header_sha256, copied.header_mode),
    )
    for name, digest, _ in pairs:
        content = (kept_dir / name).read_bytes()
        if hashlib.sha256(content).hexdigest() != digest:
            raise CsmError(f"the quarantined {name} does not match its sha256; not restored")
    for name, _, mode in pairs:
        write(target / name, (kept_dir / name).read_bytes(), mode, (copied.uid, copied.gid))
    return target / f"{msgid}-H"


def write(path: Path, content: bytes, mode: int, owner: tuple[int, int] | None = None) -> str:
    """Write ``content`` atomically (temporary file, fsync, rename, directory fsync); its sha256."""
    return atomic.write_bytes(path, content, mode=mode, owner=owner, sha256=True)
