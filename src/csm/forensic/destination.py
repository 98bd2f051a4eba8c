"""Where a snapshot may be written: a file outside the account's home.

The archive is evidence about the account, so it must not land where the account (or an
attacker holding it) can read, replace or delete it.  ``--out`` is a path on this machine (like
``/root/csm-forensics/…``); the home is a host path.  Refused when the absolute path, its
symlink-resolved form, or its resolved parent plus its name lies inside the home or inside the
home's symlink target (``csm-go-facts.md`` §3.6)."""

from __future__ import annotations

import os
from pathlib import Path

from csm.errors import NotFoundError, RefusedError, UsageError


def checked(out: str | os.PathLike[str], home: Path, home_shown: str) -> Path:
    """``out`` as an absolute path, once it is allowed.  ``home`` is the home's real location,
    ``home_shown`` its host path (``/home/<account>``), for the message."""
    raw = os.fspath(out)
    if not raw or raw.endswith("/"):
        raise UsageError("--out must name an archive file, e.g. /root/csm-forensics/acct.tar.gz")
    absolute = Path(os.path.abspath(raw))
    if _inside_any(_forms(absolute), _forms_of_home(home)):
        raise RefusedError(
            f"out path must not be inside {home_shown}/",
            fix="write the snapshot outside the account's home, e.g. under /root/csm-forensics/",
        )
    if not absolute.parent.is_dir():
        raise NotFoundError(
            f"directory {absolute.parent} does not exist", fix=f"mkdir -p {absolute.parent}"
        )
    if absolute.is_dir():
        raise UsageError(f"--out {absolute} is a directory; name the archive file in it")
    return absolute


def _forms(absolute: Path) -> set[Path]:
    """The path as given, resolved, and its resolved parent plus its name."""
    return {
        absolute,
        Path(os.path.realpath(absolute)),
        Path(os.path.realpath(absolute.parent)) / absolute.name,
    }


def _forms_of_home(home: Path) -> set[Path]:
    return {Path(os.path.abspath(home)), Path(os.path.realpath(home))}


def _inside_any(paths: set[Path], homes: set[Path]) -> bool:
    return any(path == home or home in path.parents for path in paths for home in homes)
