"""``manifest.txt``, the last member of a backup: ``backup_ts=<RFC 3339 UTC>`` and
``schema=1`` (what the Go CSM writes and its restore requires), then CSM's own lines:
``csm_version=`` and one ``file="<member>" size=<bytes> sha256=<hex>`` line per file, which
``csm backup verify`` and ``csm restore`` check.  Member names are JSON-quoted, and are UTF-8
without control characters (:func:`plain_name`): a backup refuses to hold any other name, a
restore to stage one."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from csm.clock import isoformat

NAME: Final = "manifest.txt"
SCHEMA_LINE: Final = "schema=1"
MAX_SIZE: Final = 64 * 1024
_FILE: Final = re.compile(
    r'file=(?P<name>"(?:[^"\\]|\\.)*") size=(?P<size>\d+) sha256=(?P<hex>[0-9a-f]{64})'
)


@dataclass(frozen=True, slots=True)
class FileSum:
    name: str  # the member's name in the archive
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    backup_ts: str
    version: str = ""
    files: tuple[FileSum, ...] = field(default=())


def plain_name(name: str) -> bool:
    """Valid UTF-8 (no surrogate-escaped bytes) without control, format or line-separator
    characters: a name that can be shown, listed and written back as it is."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not any(unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" for c in name)


def render(created: datetime, version: str, files: list[FileSum]) -> bytes:
    lines = [f"backup_ts={isoformat(created)}", SCHEMA_LINE, f"csm_version={version}"]
    lines += [f"file={json.dumps(f.name)} size={f.size} sha256={f.sha256}" for f in files]
    return "".join(f"{line}\n" for line in lines).encode()


def parse(data: bytes) -> Manifest:
    """The manifest; ValueError (with the reason) when it is not one CSM can restore."""
    if len(data) > MAX_SIZE:
        raise ValueError(f"{NAME} is over {MAX_SIZE} bytes")
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{NAME} is not UTF-8 text") from None
    if SCHEMA_LINE not in lines:
        raise ValueError(
            f"{NAME} has no `{SCHEMA_LINE}` line (not a CSM backup, or another schema)"
        )
    values = dict(line.partition("=")[::2] for line in lines if not line.startswith("file="))
    return Manifest(
        values.get("backup_ts", ""),
        values.get("csm_version", ""),
        tuple(_file(line) for line in lines if line.startswith("file=")),
    )


def _file(line: str) -> FileSum:
    found = _FILE.fullmatch(line)
    if found is None:
        raise ValueError(f"{NAME}: malformed line {line[:80]!r}")
    name = json.loads(found["name"])
    if not isinstance(name, str):
        raise ValueError(f"{NAME}: malformed line {line[:80]!r}")
    return FileSum(name, int(found["size"]), found["hex"])
