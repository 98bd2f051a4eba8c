"""The spool index: what the summaries need of every queued message (:class:`Brief`), kept
between runs in the state directory, so that a summary parses only the spool files that changed.

Exim never edits a spool file in place: it writes a new ``-H`` file and renames it over the old
one, and reception, delivery and ``-Mrm`` add or remove files.  Each of these changes the
directory's mtime and ctime.  So a directory whose inode, mtime and ctime are the ones indexed
holds the messages indexed, and is not even listed; a changed directory is listed, and a message
whose ``-H`` and ``-D`` files still have the indexed inode, size, mtime and ctime keeps its
entry, the others are parsed again.

File times are coarse (a kernel tick; a second on some filesystems): a directory or file that
changed within :data:`RACY_NS` of being indexed could change again without its times moving,
so such an entry is never trusted: it is listed or parsed again on every run (git's "racily
clean" rule).  The index is a cache: a missing, damaged or foreign file is an empty index, and
saving is best effort (atomic, 0600; nothing when the state directory is not writable).
"""

from __future__ import annotations

import marshal
import os
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from csm import atomic
from csm.mailqueue import spoolfiles
from csm.mailqueue.model import Brief, SpoolProblem, brief
from csm.mailqueue.spoolfiles import HEADER_FILE

FORMAT: Final = b"csm-spool-index 1"
NAME: Final = "queue-index"
RACY_NS: Final = 2_000_000_000
MISSING: Final = (-1, -1, -1, -1)

Stamp = tuple[int, ...]  # inode, size, mtime_ns, ctime_ns (a -H file's with its -D file's)
# A message: its brief's fields, or (id, why its -H file is unreadable).
Entry = tuple[Any, ...]
# A directory: its stamp (None: racy, list it again), its messages' stamps (by id, marshalled:
# read only when the directory changed; None: racy, parse again), its messages sorted by id.
Directory = tuple[Stamp | None, bytes, list[Entry]]
PROBLEM: Final = 2  # the length of an unreadable message's entry


@dataclass(slots=True)
class IndexRead:
    """Every queued message's brief (by id), and the spool files that could not be read."""

    briefs: list[Brief] = field(default_factory=list)
    problems: list[SpoolProblem] = field(default_factory=list)


@dataclass(slots=True)
class OwnersKept:
    """The accounts and domain owners messages were resolved with, saved with the stamps of
    the files they were read from and the configuration they were read under."""

    config: str  # the configuration's digest
    stamps: tuple[tuple[str, Stamp], ...]  # (path, stamp) of every file the owners come from
    users: tuple[str, ...]
    domains: dict[str, str]


class SpoolIndex:
    """The index of one spool's input directory (``dirs[""]`` is the directory itself)."""

    def __init__(
        self, path: str, dirs: dict[str, Directory] | None = None, owners: OwnersKept | None = None
    ) -> None:
        self.path, self.dirs, self.owners = path, dirs or {}, owners
        self.changed = False

    @classmethod
    def load(cls, path: str) -> SpoolIndex:
        """The saved index; an empty one when it is missing, damaged or of another format."""
        try:
            with open(path, "rb") as stream:
                data = stream.read()
            head, _, blob = data.partition(b"\n")
            name, _, check = head.rpartition(b" ")
            if name != FORMAT or int(check) != zlib.crc32(blob):
                return cls(path)
            dirs, owners = marshal.loads(blob)  # noqa: S302 - our own file, root-only, checked
            if not _shaped(dirs):
                return cls(path)
            return cls(path, dirs, OwnersKept(*owners) if owners else None)
        except (OSError, ValueError, EOFError, TypeError):
            return cls(path)

    def save(self) -> None:
        """Write the index if it changed (atomically, 0600); silently nothing when it cannot."""
        if not self.changed:
            return
        owners = self.owners
        kept = (owners.config, owners.stamps, owners.users, owners.domains) if owners else None
        blob = marshal.dumps((self.dirs, kept))
        try:
            atomic.write_bytes(Path(self.path), FORMAT + b" %d\n" % zlib.crc32(blob) + blob)
        except OSError:
            return
        self.changed = False

    def keep_owners(self, owners: OwnersKept) -> None:
        if owners != self.owners:
            self.owners, self.changed = owners, True

    def refresh(self, input_dir: str, now_ns: int | None = None) -> IndexRead:
        """Bring the index up to date with the spool; every message's brief, sorted by id.
        OSError when the input directory cannot be read."""
        started = time.time_ns() if now_ns is None else now_ns
        dirs: dict[str, Directory] = {}
        top = self._directory("", input_dir, started)
        if top is not None:
            dirs[""] = top
        for name in self._subdirectories(input_dir, top):
            found = self._directory(name, f"{input_dir}/{name}", started)
            if found is not None:
                dirs[name] = found
        if dirs.keys() != self.dirs.keys():
            self.changed = True
        self.dirs = dirs
        return self._read(input_dir)

    def _subdirectories(self, input_dir: str, top: Directory | None) -> list[str]:
        """The split spool's subdirectories: as indexed while the input directory is."""
        if top is not None and top is self.dirs.get(""):
            return [name for name in self.dirs if name]
        with os.scandir(input_dir) as entries:
            return [e.name for e in entries if len(e.name) == 1 and e.is_dir(follow_symlinks=False)]

    def _directory(self, name: str, path: str, started: int) -> Directory | None:
        """The directory's messages: the indexed ones while its stamp holds, else listed and
        checked file by file.  None when it is gone (a split subdirectory removed meanwhile)."""
        try:
            info = os.stat(path)
        except FileNotFoundError:
            if name:
                return None
            raise
        stamp = _stamp(info, started)
        known = self.dirs.get(name)
        if known is not None and known[0] is not None and known[0] == stamp:
            return known
        self.changed = True
        stamps: dict[str, Stamp | None] = {}
        if known is not None:
            stamps = marshal.loads(known[1])  # noqa: S302 - from our own file, as above
        entries = {e[0]: e for e in known[2]} if known is not None else {}
        found: list[Entry] = []
        for msgid, file_path in _header_files(path):
            entry, stamps[msgid] = _entry(
                file_path, msgid, entries.get(msgid), stamps.get(msgid), started
            )
            if entry is not None:
                found.append(entry)
        found.sort()
        kept = {e[0]: stamps[e[0]] for e in found}
        return stamp, marshal.dumps(kept), found

    def _read(self, input_dir: str) -> IndexRead:
        found = IndexRead()
        for name, (_, _, entries) in self.dirs.items():
            for entry in entries:
                if len(entry) == PROBLEM:
                    msgid, error = entry
                    where = f"{input_dir}/{name}/{msgid}-H" if name else f"{input_dir}/{msgid}-H"
                    found.problems.append(SpoolProblem(msgid, where, error))
                else:
                    found.briefs.append(Brief._make(entry))
        found.briefs.sort()
        found.problems.sort(key=lambda p: p.id)
        return found


def stamps(paths: Iterable[str]) -> tuple[tuple[str, Stamp], ...] | None:
    """Each path's stamp (a missing file's is all -1); None when one changed too recently to
    tell a later change from it."""
    started = time.time_ns()
    found = []
    for path in paths:
        try:
            stamp = _stamp(os.stat(path), started)
        except FileNotFoundError:
            stamp = MISSING
        except OSError:
            return None
        if stamp is None:
            return None
        found.append((path, stamp))
    return tuple(found)


def owners_hold(kept: OwnersKept, config: str) -> bool:
    """Whether saved owners still hold: read under this configuration, from files unchanged."""
    return kept.config == config and stamps(path for path, _ in kept.stamps) == kept.stamps


def _shaped(dirs: object) -> bool:
    """Whether a loaded index has the shape of one (each directory: stamp, stamps, entries)."""
    return isinstance(dirs, dict) and all(
        isinstance(name, str)
        and isinstance(d, tuple)
        and len(d) == 3
        and isinstance(d[1], bytes)
        and isinstance(d[2], list)
        for name, d in dirs.items()
    )


def _header_files(directory: str) -> Iterator[tuple[str, str]]:
    with os.scandir(directory) as entries:
        for entry in entries:
            if HEADER_FILE.fullmatch(entry.name):
                yield entry.name[:-2], entry.path


def _stamp(info: os.stat_result, started: int) -> Stamp | None:
    """What identifies this version of a file; None when it changed too recently to tell."""
    if max(info.st_mtime_ns, info.st_ctime_ns) >= started - RACY_NS:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _entry(
    path: str, msgid: str, known: Entry | None, known_stamp: Stamp | None, started: int
) -> tuple[Entry | None, Stamp | None]:
    """The message's entry and stamp: the indexed entry while its files are unchanged, else
    parsed again; no entry when it left the queue meanwhile."""
    try:
        header = os.stat(path)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return (msgid, str(exc)), None
    try:
        data = os.stat(path[:-1] + "D")
    except OSError:
        data = None
    own, body = _stamp(header, started), _stamp(data, started) if data else MISSING
    stamp = own + body if own is not None and body is not None else None
    if known is not None and stamp is not None and known_stamp == stamp:
        return known, stamp
    return _parsed(path, msgid, data.st_size if data else -1), stamp


def _parsed(path: str, msgid: str, data_size: int) -> Entry | None:
    from csm.mailqueue.spool import SpoolFormatError, parse  # noqa: PLC0415 - when one changed

    try:
        content = spoolfiles.read(path)
        return tuple(brief(parse(content, msgid, data_size)))
    except FileNotFoundError:
        return None
    except (OSError, SpoolFormatError) as exc:
        return msgid, str(exc)
