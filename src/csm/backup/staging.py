"""Reading a backup without trusting it (``csm-go-facts.md`` §3.5): the archive is read
through once, in order, into a private directory; anything that is not a plain file or
directory, an absolute name, a ``..`` or empty component, a name that is not UTF-8 or holds a
control character, a duplicate, a member over 1 GiB, more than 100,000 members, a damaged gzip
stream (its CRC is read to the end) or a missing or foreign ``manifest.txt`` refuses the whole
archive before anything live is touched.  So does an archive that unpacks to more than
:func:`unpack_limit` bytes (a gzip bomb): each member's declared size is checked against what
is left, and every byte decompressed is counted, so extraction stops as soon as the limit is
crossed.  Top-level names other than ``csm.yaml``, ``conf.d``, ``state`` and ``manifest.txt``
are ignored, as is ``state/csm.lock``.  Then every file is checked against the manifest's sizes
and sha256 sums (an archive whose manifest lists none is :attr:`Staged.summed` false)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, Final

from csm import atomic
from csm.backup import manifest
from csm.backup.manifest import Manifest
from csm.errors import NotFoundError, UnreadableInputError

MAX_MEMBER: Final = 1 << 30
MAX_MEMBERS: Final = 100_000
# What an archive may unpack to: RATIO times its own size, at least FLOOR, at most HARD.
UNPACK_FLOOR: Final = 256 << 20
UNPACK_RATIO: Final = 64
UNPACK_HARD: Final = 4 << 30
COMPONENTS: Final = ("csm.yaml", "conf.d", "state")
SKIPPED: Final = frozenset({"state/csm.lock"})
CHUNK: Final = 1 << 20
SCRATCH_PREFIX: Final = "csm-restore-"


@dataclass(slots=True)
class Staged:
    """An archive's contents in a private directory, checked."""

    root: Path
    manifest: Manifest = field(default_factory=lambda: Manifest(""))
    files: dict[str, str] = field(default_factory=dict)  # member name -> sha256
    components: list[str] = field(default_factory=list)  # of COMPONENTS, in the archive
    problems: list[str] = field(default_factory=list)  # files that do not match the manifest

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def summed(self) -> bool:
        """The manifest lists the files' sums (every CSM-written archive does; the Go CSM's
        do not)."""
        return bool(self.manifest.files)


def unpack_limit(compressed: int) -> int:
    return min(UNPACK_HARD, max(UNPACK_FLOOR, UNPACK_RATIO * compressed))


@contextmanager
def staged(archive: Path, within: Path | None = None) -> Iterator[Staged]:
    """The archive's contents, staged and checked (problems listed, not raised) in a private
    directory (made in ``within``, else the system's temporary directory) removed after.
    UnreadableInputError when the archive is damaged, unsafe or not a CSM backup."""
    if not archive.is_file():
        raise NotFoundError(f"no backup archive at {archive}")
    parent = within or Path(tempfile.gettempdir())
    atomic.sweep(parent, SCRATCH_PREFIX)
    with atomic.scratch(parent, SCRATCH_PREFIX) as scratch:
        found = Staged(scratch)
        body = _extract(archive, found)
        if body is None:
            raise _bad(archive, f"it has no {manifest.NAME} (not a CSM backup)")
        try:
            found.manifest = manifest.parse(body)
        except ValueError as exc:
            raise _bad(archive, str(exc)) from None
        found.problems = _mismatches(found)
        yield found


class _Counted:
    """The decompressed stream, counted: reading past ``limit`` bytes refuses the archive."""

    def __init__(self, stream: gzip.GzipFile, limit: int, archive: Path) -> None:
        self.stream, self.limit, self.archive, self.total = stream, limit, archive, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.total += len(data)
        if self.total > self.limit:
            raise self.refusal()
        return data

    def left(self) -> int:
        return self.limit - self.total

    def refusal(self) -> UnreadableInputError:
        return _bad(
            self.archive,
            f"it unpacks to over {self.limit} bytes (the limit: "
            f"{UNPACK_RATIO} times the archive's size, at least {UNPACK_FLOOR}, at most"
            f" {UNPACK_HARD}; a gzip bomb?)",
        )


def _extract(archive: Path, found: Staged) -> bytes | None:
    """Every wanted member into ``found.root``; the manifest's bytes (None when absent)."""
    try:
        with archive.open("rb") as raw:  # one open file: the size checked is the one read
            limit = unpack_limit(os.fstat(raw.fileno()).st_size)
            with gzip.GzipFile(fileobj=raw, mode="rb") as zipped:
                counted = _Counted(zipped, limit, archive)
                body = _members(archive, counted, found)
                while counted.read(CHUNK):  # to the end: the gzip trailer's CRC and length
                    pass
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        raise _bad(archive, f"it is damaged or not a gzip'd tar ({exc})") from None
    return body


def _members(archive: Path, counted: _Counted, found: Staged) -> bytes | None:
    body: bytes | None = None
    seen: set[str] = set()
    stream: BinaryIO = counted  # type: ignore[assignment]  # read() is all tarfile uses
    with tarfile.open(fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape") as tar:
        for member in tar:
            name = _checked(archive, member, seen)
            if member.size > counted.left():
                raise counted.refusal()
            if name == manifest.NAME:
                body = _manifest_body(archive, tar, member)
            elif _wanted(name):
                _stage(archive, tar, member, name, found)
    return body


def _checked(archive: Path, member: tarfile.TarInfo, seen: set[str]) -> str:
    name = member.name.rstrip("/") if member.isdir() else member.name
    parts = name.split("/")
    if name.startswith("/") or "\0" in name or any(p in ("", ".", "..") for p in parts):
        raise _bad(archive, f"member {name!r} has an absolute or unsafe name")
    if not manifest.plain_name(name):
        raise _bad(
            archive, f"member {name!r} has a name that is not UTF-8 or holds a control character"
        )
    if not (member.isreg() or member.isdir()):
        raise _bad(archive, f"member {name!r} is not a plain file or directory")
    if name in seen:
        raise _bad(archive, f"member {name!r} appears twice")
    if member.size > MAX_MEMBER:
        raise _bad(archive, f"member {name!r} is over {MAX_MEMBER} bytes")
    if len(seen) >= MAX_MEMBERS:
        raise _bad(archive, f"it has over {MAX_MEMBERS} members")
    seen.add(name)
    return name


def _wanted(name: str) -> bool:
    return name.partition("/")[0] in COMPONENTS and name not in SKIPPED


def _manifest_body(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    if not member.isreg() or member.size > manifest.MAX_SIZE:
        raise _bad(archive, f"{manifest.NAME} is not a file of at most {manifest.MAX_SIZE} bytes")
    stream = tar.extractfile(member)
    return stream.read() if stream is not None else b""


def _stage(
    archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo, name: str, found: Staged
) -> None:
    top = name.partition("/")[0]
    if not _right_kind(name, top, member):
        raise _bad(archive, f"member {name!r} is of the wrong kind")
    if top not in found.components:
        found.components.append(top)
    target = found.root / name
    try:
        _make_parents(found.root, name)
        if member.isdir():
            target.mkdir(mode=0o700, exist_ok=True)
            return
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except (FileExistsError, NotADirectoryError):
        raise _bad(archive, f"member {name!r} collides with another member") from None
    with os.fdopen(descriptor, "wb") as out:
        found.files[name] = _copy(tar.extractfile(member) or io.BytesIO(), out)


def _right_kind(name: str, top: str, member: tarfile.TarInfo) -> bool:
    """``csm.yaml`` is one file; ``conf.d`` and ``state`` are directories."""
    if top == "csm.yaml":
        return name == top and member.isreg()
    return name != top or member.isdir()


def _make_parents(root: Path, name: str) -> None:
    """The member's parent directories inside the private root (never through a file)."""
    at = root
    for part in name.split("/")[:-1]:
        at = at / part
        if at.is_file():
            raise NotADirectoryError(str(at))
        at.mkdir(mode=0o700, exist_ok=True)


def _copy(stream: IO[bytes], out: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest()


def _mismatches(found: Staged) -> list[str]:
    """Files that differ from the manifest's list (none is checked when it lists none: an
    archive from the Go CSM carries no sums; see :attr:`Staged.summed`)."""
    listed = {f.name: f for f in found.manifest.files}
    if not listed:
        return []
    problems = [f"{name}: not in the archive" for name in listed if name not in found.files]
    for name, digest in found.files.items():
        expected = listed.get(name)
        if expected is None:
            problems.append(f"{name}: not listed in {manifest.NAME}")
        elif expected.sha256 != digest or expected.size != found.path(name).stat().st_size:
            problems.append(f"{name}: its content differs from {manifest.NAME} (sha256)")
    return problems


def _bad(archive: Path, why: str) -> UnreadableInputError:
    return UnreadableInputError(f"backup {archive} refused: {why}; nothing was changed")
