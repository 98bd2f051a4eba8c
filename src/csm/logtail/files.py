"""Log files as line sources: plain or gzip, rotated sets read oldest first."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from csm.errors import NotFoundError

GZIP_MAGIC = b"\x1f\x8b"
_NUMBERED = re.compile(r"\.(\d+)(\.gz)?$")
_DATED = re.compile(r"-(\d{8})(\.gz)?$")
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class LogFile:
    path: Path
    size: int
    year: int  # for syslog lines, which carry no year: the year the file was last written


def ordered(paths: list[Path]) -> list[LogFile]:
    """The files oldest first: ``x.3.gz, x.2.gz, x.1, x`` and ``x-20260101.gz, x-20260102, x``."""
    found = []
    for path in paths:
        try:
            info = path.stat()
        except FileNotFoundError:
            raise NotFoundError(f"no such log file: {path}") from None
        year = datetime.fromtimestamp(info.st_mtime, UTC).year
        found.append(LogFile(path, info.st_size, year))
    return sorted(found, key=_age_key)


def _age_key(log: LogFile) -> tuple[str, int, str]:
    name = log.path.name
    numbered = _NUMBERED.search(name)
    if numbered:
        return (name[: numbered.start()], -int(numbered.group(1)), "")
    dated = _DATED.search(name)
    if dated:
        return (name[: dated.start()], 0, dated.group(1))
    return (name, 1, "")


def lines(log: LogFile) -> Iterator[bytes]:
    """Every line of the file as bytes (a gzip file is read through, by its magic bytes)."""
    with opened(log) as stream:
        yield from stream


def opened(log: LogFile) -> BinaryIO:
    """The file open for reading its lines, plain or gzip (by its magic bytes)."""
    return _open(log.path)


def _open(path: Path) -> BinaryIO:
    raw = path.open("rb", buffering=CHUNK)
    if raw.read(2) == GZIP_MAGIC:
        raw.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw
