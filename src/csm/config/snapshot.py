"""Where the configuration is; and the few settings quick read-only commands need, saved beside
it after a full validation, so that ``csm queue count`` (a monitoring probe) answers without
loading the configuration model.

The snapshot holds a digest of everything the configuration is made of (CSM's version, the main
file, every drop-in, the ``CSM_*`` environment): while the digest matches, the inputs are the
ones that were validated, so the saved values are the effective ones.  Anything else (no
snapshot, a different digest, an unreadable file) means: load and validate as usual.  Writing
is best effort and atomic; the file holds no secrets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from csm import atomic

# The configuration's schema: a snapshot from another CSM (another model.py) does not count.
SCHEMA: Final = Path(__file__).with_name("model.py")

NAME: Final = ".csm-fast"
ENV_PREFIX: Final = "CSM_"
DEFAULT_CONFIG: Final = Path("/etc/csm/csm.yaml")


def config_path(explicit: str | None, env: Mapping[str, str]) -> Path:
    """``--config`` wins, then ``CSM_CONFIG``, then ``/etc/csm/csm.yaml``."""
    return Path(explicit or env.get("CSM_CONFIG") or DEFAULT_CONFIG)


def config_dir(explicit: str | None, main: Path, env: Mapping[str, str]) -> Path:
    """``--config-dir`` wins, then ``CSM_CONFIG_DIR``, then ``conf.d`` beside the main file."""
    chosen = explicit or env.get("CSM_CONFIG_DIR")
    return Path(chosen) if chosen else main.parent / "conf.d"


def location(main: Path) -> Path:
    return main.parent / NAME


def digest(main: Path, dropin_dir: Path, env: Mapping[str, str]) -> str:
    """What the configuration is made of; OSError when a file cannot be read."""
    schema = SCHEMA.stat()
    hasher = hashlib.sha256(f"{schema.st_size}:{schema.st_mtime_ns}\0{main.absolute()}\0".encode())
    hasher.update(main.read_bytes())
    dropins = sorted(dropin_dir.glob("*.yaml")) if dropin_dir.is_dir() else []
    for path in dropins:
        hasher.update(f"\0{path.name}\0".encode())
        hasher.update(path.read_bytes())
    for name in sorted(n for n in env if n.startswith(ENV_PREFIX)):
        hasher.update(f"\0{name}={env[name]}".encode())
    return hasher.hexdigest()


def save(main: Path, dropin_dir: Path, env: Mapping[str, str], values: Mapping[str, str]) -> None:
    """Save ``values`` for these inputs (``key value`` lines); silently nothing when that cannot
    be done (a value with a line break, a directory that is not writable)."""
    if any(" " in key or "\n" in key + value for key, value in values.items()):
        return
    try:
        lines = [f"digest {digest(main, dropin_dir, env)}", *map(" ".join, sorted(values.items()))]
        content = "".join(f"{line}\n" for line in lines)
        path = location(main)
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            return
        atomic.write_bytes(path, content.encode("utf-8"))
    except OSError:
        return


def values(main: Path, dropin_dir: Path, env: Mapping[str, str]) -> dict[str, str] | None:
    """The saved values when the inputs are still the validated ones; else None."""
    try:
        lines = location(main).read_text(encoding="utf-8").splitlines()
        saved = dict(line.partition(" ")[::2] for line in lines)
        if saved.pop("digest", None) != digest(main, dropin_dir, env):
            return None
    except (OSError, UnicodeDecodeError):
        return None
    return saved
