"""The snapshot archive: a gzip'd tar that is the same bytes for the same inputs, written
atomically, with a ``sha256sum -c`` sidecar.

Every member is a regular file with mode 0600, owner 0:0 without names, and the snapshot's
time as its mtime; members come in name order with ``manifest.txt`` last; the gzip header
carries the snapshot's time and no file name.  The archive and the sidecar are each written to
a temp file (``.csm-forensic-<pid>-….tmp``, 0600) in the destination directory, fsync'd, put in
place, and the directory is fsync'd.  Nothing already there is replaced (a file that appeared
meanwhile refuses the write) unless ``force``, and then only a regular file."""

from __future__ import annotations

import gzip
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from csm import atomic
from csm.errors import RefusedError
from csm.forensic.staging import checked_name

TEMP_PREFIX = ".csm-forensic-"
MODE = 0o600


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    sidecar: Path
    sha256: str
    size: int


def write(
    members: list[tuple[str, Path]],
    out: Path,
    mtime: int,
    listed_as: str | None = None,
    *,
    force: bool = False,
) -> Written:
    """Write ``members`` (name, file) in the given order as ``out``, then ``out.sha256``,
    which names the archive ``listed_as`` (as ``sha256sum <path>`` would: the runbook's
    ``sha256sum -c /root/csm-forensics/<account>-*.sha256`` then works from any directory),
    else by its base name (the Go tool's format).  RefusedError when something (other than a
    regular file, with ``force``) is at either path when it is put in place."""
    replaces: atomic.Replaces = "regular" if force else "nothing"
    try:
        with atomic.replacing(out, TEMP_PREFIX, replaces=replaces) as raw:
            digest = atomic.Digesting(raw)
            with gzip.GzipFile(filename="", mode="wb", fileobj=digest, mtime=mtime) as zipped:
                _tar(members, zipped, mtime)
    except FileExistsError:
        raise _appeared(out, "nothing was written") from None
    sha = digest.hash.hexdigest()
    sidecar = out.with_name(out.name + ".sha256")
    try:
        with atomic.replacing(sidecar, TEMP_PREFIX, replaces=replaces) as raw:
            raw.write(f"{sha}  {listed_as or out.name}\n".encode())
    except FileExistsError:
        raise _appeared(sidecar, f"the archive {out} is complete, sha256 {sha}") from None
    return Written(out, sidecar, sha, digest.size)


def _appeared(path: Path, outcome: str) -> RefusedError:
    return RefusedError(
        f"{path} appeared while the snapshot was written and was left as it is; {outcome}",
        fix="choose a new --out file name",
    )


def _tar(members: list[tuple[str, Path]], stream: gzip.GzipFile, mtime: int) -> None:
    with tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in members:
            with path.open("rb") as body:
                tar.addfile(_info(name, os.fstat(body.fileno()).st_size, mtime), body)


def _info(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(checked_name(name))
    info.size, info.mtime, info.mode = size, mtime, MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info
