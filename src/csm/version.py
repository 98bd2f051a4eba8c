"""The version line: ``csm <version> (build: <sha>, date: <UTC time>)``.

Build facts come from ``csm/_build.py`` when a build step wrote it (``make dist``); a source
checkout reads the commit straight from ``.git`` (no subprocess, so ``csm version`` stays fast);
anything else says ``unknown``.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path

__version__ = "0.1.0"

UNKNOWN = "unknown"
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class BuildInfo:
    version: str
    build: str
    date: str

    def line(self) -> str:
        return f"csm {self.version} (build: {self.build}, date: {self.date})"


def build_info() -> BuildInfo:
    try:
        build = importlib.import_module("csm._build")
    except ImportError:
        return BuildInfo(__version__, _checkout_sha() or UNKNOWN, UNKNOWN)
    return BuildInfo(__version__, str(build.SHA), str(build.DATE))


def _checkout_sha(package_dir: Path | None = None) -> str | None:
    """The short commit of the source checkout this package runs from, if it is one."""
    git = (package_dir or Path(__file__).resolve().parent).parent.parent / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            head = _resolve_ref(git, head[5:])
    except OSError:
        return None
    return head[:7] if _SHA.match(head) else None


def _resolve_ref(git: Path, ref: str) -> str:
    loose = git / ref
    if loose.is_file():
        return loose.read_text().strip()
    for line in (git / "packed-refs").read_text().splitlines():
        sha, _, name = line.partition(" ")
        if name == ref:
            return sha
    return ""
