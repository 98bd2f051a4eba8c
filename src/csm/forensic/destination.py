"""Where a snapshot may be written: a new file outside every hosting account's home.

The archive is evidence about the account, so it must not land where the account (or an
attacker holding it, or another account on the server) can read, replace or delete it.
``--out`` is a path on this machine (like ``/root/csm-forensics/…``); the homes are host paths.
Refused when the absolute path, its symlink-resolved form, or its resolved parent plus its name
lies inside the account's home or the home's symlink target (``csm-go-facts.md`` §3.6), or
inside the home root (``paths.home_dir``), its symlink target, or the target of a symlinked
home in it.

Nothing is written over: an existing archive or ``.sha256`` sidecar (earlier evidence) only
with ``force``, and then only a regular file; a symlink, a device or a FIFO never."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from csm import atomic
from csm.errors import NotFoundError, RefusedError, UsageError


@dataclass(frozen=True, slots=True)
class Homes:
    """The account's home and the home root: real locations and host paths (for messages)."""

    home: Path
    home_shown: str  # /home/<account>
    root: Path
    root_shown: str  # /home


def checked(out: str | os.PathLike[str], homes: Homes, *, force: bool = False) -> Path:
    """``out`` as an absolute path, once it is allowed."""
    raw = os.fspath(out)
    if not raw or raw.endswith("/"):
        raise UsageError("--out must name an archive file, e.g. /root/csm-forensics/acct.tar.gz")
    absolute = Path(os.path.abspath(raw))
    _refuse_homes(absolute, homes)
    if not absolute.parent.is_dir():
        raise NotFoundError(
            f"directory {absolute.parent} does not exist", fix=f"mkdir -p {absolute.parent}"
        )
    if atomic.occupant(absolute) == "a directory":
        raise UsageError(f"--out {absolute} is a directory; name the archive file in it")
    atomic.refuse_occupied(absolute, force=force, what="snapshot")
    atomic.refuse_occupied(sidecar(absolute), force=force, what="snapshot sidecar")
    return absolute


def sidecar(archive: Path) -> Path:
    return archive.with_name(archive.name + ".sha256")


def _refuse_homes(absolute: Path, homes: Homes) -> None:
    forms = _forms(absolute)
    if _inside_any(forms, _forms_of_home(homes.home)):
        raise RefusedError(
            f"out path must not be inside {homes.home_shown}/",
            fix="write the snapshot outside the account's home, e.g. under /root/csm-forensics/",
        )
    if _inside_any(forms, _forms_of_root(homes.root)):
        raise RefusedError(
            f"out path must not be inside {homes.root_shown.rstrip('/')}/, where the hosting"
            " accounts' homes are",
            fix="write the snapshot outside the homes, e.g. under /root/csm-forensics/",
        )


def _forms(absolute: Path) -> set[Path]:
    """The path as given, resolved, and its resolved parent plus its name."""
    return {
        absolute,
        Path(os.path.realpath(absolute)),
        Path(os.path.realpath(absolute.parent)) / absolute.name,
    }


def _forms_of_home(home: Path) -> set[Path]:
    return {Path(os.path.abspath(home)), Path(os.path.realpath(home))}


def _forms_of_root(root: Path) -> set[Path]:
    """The home root, resolved, and where its symlinked homes (``/home/a -> /home2/a``) lead."""
    forms = _forms_of_home(root)
    try:
        entries = list(os.scandir(root))
    except OSError:
        return forms
    return forms | {Path(os.path.realpath(e.path)) for e in entries if e.is_symlink()}


def _inside_any(paths: set[Path], homes: set[Path]) -> bool:
    return any(path == home or home in path.parents for path in paths for home in homes)
