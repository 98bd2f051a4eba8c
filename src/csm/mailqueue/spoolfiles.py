"""Where a queue's ``-H`` files are: the input directory, flat or split (one subdirectory per
id character).  Light on imports: ``csm queue count``'s fast path uses it before any
configuration library loads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from csm.identifiers import EXIM_MESSAGE_ID


def header_files(input_dir: Path) -> Iterator[tuple[str, Path]]:
    """(message id, path) of every ``-H`` file; OSError when the spool cannot be read."""
    with os.scandir(input_dir) as top:
        for entry in top:
            if entry.is_dir(follow_symlinks=False) and len(entry.name) == 1:
                yield from _in(Path(entry.path))
            elif _header_name(entry.name):
                yield entry.name[:-2], Path(entry.path)


def count(input_dir: Path) -> int:
    return sum(1 for _ in header_files(input_dir))


def places(input_dir: Path, msgid: str) -> tuple[Path, ...]:
    """Where a message's -H file is: the split spool's subdirectory (its id's 6th character),
    or the flat input directory."""
    return (input_dir / msgid[5] / f"{msgid}-H", input_dir / f"{msgid}-H")


def _in(directory: Path) -> Iterator[tuple[str, Path]]:
    with os.scandir(directory) as entries:
        for entry in entries:
            if _header_name(entry.name):
                yield entry.name[:-2], Path(entry.path)


def _header_name(name: str) -> bool:
    return name.endswith("-H") and EXIM_MESSAGE_ID.fullmatch(name[:-2]) is not None
