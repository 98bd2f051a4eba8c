"""A log followed across rotations, losing no line and reading none twice.

A file's identity is its device, inode and *head* (the hash of its first line, at most 1 KiB);
the position is the end of the last complete line read.  Each poll reads what was appended;
at the end of the file it looks at the name again:

- another file at the name (rename-and-create): the old one is read to its end through the
  descriptor still open, then the new one from its start;
- the same file, shorter than the position or with another head (copytruncate, an inode
  reused for a new file): what the old content held past the position is read from the
  rotated copy whose head matches (``x.1``, ``x-20261120``, gzip or not), then the file from 0.

A follower resumed from a stored position after a restart does the same: the position's file
is found by its head among the name and its rotated siblings, its remainder read, then what
came after it.  A line longer than ``cap`` is counted and skipped; a last line without its
newline is left for the next poll (the writer is still writing it), unless the writer has
moved on to a new file."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from csm.errors import UnreadableInputError
from csm.logtail import files
from csm.store.positions import Position

HEAD_BYTES = 1024
LINE_CAP = 256 * 1024  # a longer line is counted and skipped
READ_BUDGET = 4 << 20  # bytes read per poll at most (the rest waits for the next)
STEPS = 8  # file switches within one poll at most


@dataclass(slots=True)
class Chunk:
    """Complete lines (without their newline) read from one file, and the position after."""

    lines: list[bytes]
    start: int  # the offset of the first line in its file
    position: Position
    source: str  # the file they came from (the followed name, or a rotated sibling)


@dataclass(slots=True)
class Stats:
    lines: int = 0
    skipped: int = 0  # lines longer than the cap
    rotations: int = 0
    truncations: int = 0
    error: str = ""  # why the log is not being read now ("" while it is)
    size: int = 0  # of the followed file at the last poll (the lag is size - offset)


def head_hash(start: bytes) -> str:
    """The head of a file whose content begins with ``start``: its first line (with its
    newline), or its first KiB when that holds no newline; "" when neither is complete."""
    end = start.find(b"\n", 0, HEAD_BYTES)
    if end >= 0:
        return hashlib.sha256(start[: end + 1]).hexdigest()
    if len(start) >= HEAD_BYTES:
        return hashlib.sha256(start[:HEAD_BYTES]).hexdigest()
    return ""


@dataclass(slots=True)
class _Old:
    """A file being read to its end before the follower moves on (rotated away, or the copy
    holding what a truncation cut off)."""

    stream: io.BufferedIOBase | io.FileIO
    source: str
    live: bool  # the writer may still finish its last line (a file just renamed away)
    identity: tuple[int, int, str]  # device, inode, head: to find it among the rotated again
    tail: bytes = b""  # the start of a line not complete yet


@dataclass
class Follower:
    """Follows the log at ``path`` from ``position`` (None: from its end, or with
    ``from_start`` from its beginning)."""

    path: Path
    position: Position | None = None
    from_start: bool = False
    cap: int = LINE_CAP
    budget: int = READ_BUDGET
    stats: Stats = field(default_factory=Stats)
    _file: io.FileIO | None = field(default=None, repr=False)
    _old: _Old | None = field(default=None, repr=False)
    _skipping: bool = field(default=False, repr=False)  # inside an over-long line

    def poll(self) -> list[Chunk]:
        """What was written since the last poll (up to the budget), as chunks of lines."""
        chunks: list[Chunk] = []
        try:
            for _ in range(STEPS):  # open, read an old file to its end, move on, read
                if not self._step(chunks) or chunks:
                    break
        except (OSError, UnreadableInputError, EOFError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            self._detach(f"{self.path}: {reason or exc}")
        return chunks

    def _step(self, chunks: list[Chunk]) -> bool:
        """One step; whether another may follow at once (a file just switched)."""
        if self._old is not None:
            self._drain(chunks)
            return self._old is None  # read to its end: on to the next file now
        if self._file is None:
            self._attach()
            return self._file is not None or self._old is not None
        if self._truncated():
            return True
        if self._read(chunks) < self.budget:
            self._check_name()
            return self._old is not None
        return False

    def close(self) -> None:
        self._detach("")

    @property
    def attached(self) -> bool:
        return self._file is not None or self._old is not None

    @property
    def pending(self) -> bool:
        """Whether there is more to do now (an old file being read, the new one to open):
        poll again before waiting."""
        return self._old is not None or (self._file is None and not self.stats.error)

    @property
    def lag(self) -> int:
        """Bytes written to the followed files and not read yet (at least 1 while an old
        file is being read or the next one is to be opened: what is left is not known)."""
        if self._old is not None or (self._file is None and not self.stats.error):
            return max(1, self.stats.size)
        if self.position is None:
            return 0
        return max(0, self.stats.size - self.position.offset)

    # -- attaching -------------------------------------------------------------------------

    def _attach(self) -> None:
        try:
            handle = io.FileIO(files.regular_descriptor(self.path), "rb")
        except FileNotFoundError:
            self.stats.error = f"{self.path}: no such file (retried)"
            return
        info = os.fstat(handle.fileno())
        here = Position(info.st_dev, info.st_ino, _head(handle), 0)
        stored = self.position
        self._file, self.stats.error, self.stats.size = handle, "", info.st_size
        if stored is None:
            offset = 0 if self.from_start else _last_line_end(handle, info.st_size, self.cap)
            self.position = replace(here, offset=offset)
        elif _same(stored, here) and info.st_size >= stored.offset:
            self.position = replace(here, offset=stored.offset)
        else:  # rotated or truncated while nobody was reading: the old file's rest first
            self._find_old(stored)

    def _find_old(self, old: Position) -> None:
        """The rotated file whose head is ``old``'s, open at ``old``'s offset, to be read to
        its end first, then the rotated files newer than it (rotated while nobody read);
        none found: its rest is gone, and the followed file is read from 0."""
        rotated = [p for p in files.rotated_set(self.path) if p != self.path]
        for index in reversed(range(len(rotated))):
            stream = files.opened(files.LogFile(rotated[index], 0, 0))
            if _skip_to(stream, old, rotated[index]):
                self._file_close()
                info = rotated[index].stat()
                identity = (info.st_dev, info.st_ino, old.head)
                self._old = _Old(stream, str(rotated[index]), False, identity)
                self.position = old
                return
            stream.close()
        self.position = None
        self.from_start = True
        self._file_close()
        self._attach()

    # -- reading ---------------------------------------------------------------------------

    def _read(self, chunks: list[Chunk]) -> int:
        """Complete lines from the position on, up to the budget; the bytes read."""
        assert self._file is not None
        assert self.position is not None
        offset = self.position.offset
        data = os.pread(self._file.fileno(), self.budget, offset)
        self.stats.size = os.fstat(self._file.fileno()).st_size
        if data:
            lines, used = self._split(data)
            if used and not self.position.head:
                self.position = replace(self.position, head=_head(self._file))
            self._advance(chunks, lines, used, str(self.path))
        return len(data)

    def _drain(self, chunks: list[Chunk]) -> None:
        """The old file's next piece; at its end, the followed file again from its start."""
        old = self._old
        assert old is not None
        assert self.position is not None
        data = old.stream.read(self.budget)
        if data:
            buffer = old.tail + data
            lines, used = self._split(buffer)
            old.tail = buffer[used:]
            self._advance(chunks, lines, used, old.source)
            return
        if old.tail and old.live and not self._moved_on():
            return  # the writer may still complete its last line
        if old.tail:  # the writer left it without a newline: a line all the same
            last = [old.tail] if len(old.tail) <= self.cap and not self._skipping else []
            self._advance(chunks, last, len(old.tail), old.source)
        old.stream.close()
        self._skipping = False
        self._old = None
        following = self._rotated_after(old.identity)
        if following is None:
            self.position, self.from_start = None, True
        else:  # rotated again meanwhile: the next rotated file, before the one at the name
            self.stats.rotations += 1
            self._old, self.position = _whole(following)

    def _rotated_after(self, identity: tuple[int, int, str]) -> Path | None:
        """The rotated file next newer than the one ``identity`` names (it was rotated again
        while being read); None when that was the newest, or is not found."""
        rotated = [p for p in files.rotated_set(self.path) if p != self.path]
        device, inode, head = identity
        for index, path in enumerate(rotated):
            info = path.stat()
            if (info.st_dev, info.st_ino) == (device, inode) or (head and _head_of(path) == head):
                return rotated[index + 1] if index + 1 < len(rotated) else None
        return None

    def _split(self, data: bytes) -> tuple[list[bytes], int]:
        """The complete lines in ``data`` (over-long ones left out and counted), and the
        bytes they take."""
        end = data.rfind(b"\n")
        if end < 0:
            if self._skipping or len(data) > self.cap:  # an over-long line: skip what there is
                self._skipping = True
                return [], len(data)
            return [], 0
        lines = data[:end].split(b"\n")
        if self._skipping:  # the rest of an over-long line: skipped with it
            lines.pop(0)
            self._skipping = False
            self.stats.skipped += 1
        kept = [line for line in lines if len(line) <= self.cap]
        self.stats.skipped += len(lines) - len(kept)
        used = end + 1
        if len(data) - used > self.cap:  # the next line is over-long already
            self._skipping = True
            used = len(data)
        return kept, used

    def _advance(self, chunks: list[Chunk], lines: list[bytes], used: int, source: str) -> None:
        assert self.position is not None
        start = self.position.offset
        self.position = replace(self.position, offset=start + used)
        self.stats.lines += len(lines)
        if lines:
            chunks.append(Chunk(lines, start, self.position, source))

    # -- rotation --------------------------------------------------------------------------

    def _truncated(self) -> bool:
        """Whether the open file was cut back or reused for new content (copytruncate): its
        old content's rest is then read first, from the copy whose head matches.  Checked
        before each read, so no line is read from the middle of new content."""
        assert self._file is not None
        assert self.position is not None
        size = os.fstat(self._file.fileno()).st_size
        head = self.position.head
        if size >= self.position.offset and (not head or _head(self._file) == head):
            return False
        self.stats.truncations += 1
        self._find_old(self.position)
        return True

    def _check_name(self) -> None:
        """At the end of the file: is it still the one at the name?  Renamed away, it is
        read to its end, then the new file at the name."""
        assert self._file is not None
        assert self.position is not None
        try:
            info = self.path.stat()
        except FileNotFoundError:  # renamed, its successor not created yet: keep reading
            return
        mine = os.fstat(self._file.fileno())
        if (info.st_dev, info.st_ino) != (mine.st_dev, mine.st_ino):
            self.stats.rotations += 1
            self._file.seek(self.position.offset)
            identity = (mine.st_dev, mine.st_ino, self.position.head)
            self._old = _Old(self._file, str(self.path), True, identity)
            self._file = None

    def _moved_on(self) -> bool:
        """Whether the writer writes to the new file at the name already."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def _file_close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _detach(self, error: str) -> None:
        self._file_close()
        if self._old is not None:
            self._old.stream.close()
            self._old = None
        self._skipping = False
        self.stats.error = error


def _head(handle: io.FileIO) -> str:
    return head_hash(os.pread(handle.fileno(), HEAD_BYTES, 0))


def _last_line_end(handle: io.FileIO, size: int, cap: int) -> int:
    """Where a follower that starts at the end starts: after the last complete line."""
    start = max(0, size - cap)
    tail = os.pread(handle.fileno(), size - start, start)
    newline = tail.rfind(b"\n")
    return start + newline + 1 if newline >= 0 else start


def _whole(path: Path) -> tuple[_Old, Position]:
    """A rotated file to read from its start, and its position there."""
    info = path.stat()
    stream = files.opened(files.LogFile(path, 0, 0))
    head = head_hash(stream.read(HEAD_BYTES))
    stream.seek(0)
    identity = (info.st_dev, info.st_ino, head)
    return _Old(stream, str(path), False, identity), Position(*identity, 0)


def _head_of(path: Path) -> str:
    """The head of a rotated file (read through gzip)."""
    with files.opened(files.LogFile(path, 0, 0)) as stream:
        return head_hash(stream.read(HEAD_BYTES))


def _same(stored: Position, here: Position) -> bool:
    if (stored.device, stored.inode) != (here.device, here.inode):
        return False
    return not stored.head or stored.head == here.head


def same_file(here: Position, known: Position) -> bool:
    """Whether ``here`` is in the file ``known`` names: by head, which survives the file's
    compression (its inode does not); by inode while the file held no complete line."""
    if known.head:
        return here.head == known.head
    return (here.device, here.inode) == (known.device, known.inode)


def _skip_to(stream: io.BufferedIOBase, old: Position, path: Path) -> bool:
    """Whether ``stream`` (``path``) is ``old``'s file (:func:`same_file`); if so it is left
    at ``old``'s offset."""
    start = stream.read(HEAD_BYTES)
    info = path.stat()
    if not same_file(Position(info.st_dev, info.st_ino, head_hash(start), 0), old):
        return False
    if len(start) >= old.offset:
        stream.seek(old.offset)
        return True
    remaining = old.offset - len(start)
    while remaining > 0:
        skipped = stream.read(min(remaining, 1 << 20))
        if not skipped:
            return False
        remaining -= len(skipped)
    return True
