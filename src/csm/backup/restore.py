"""Putting a staged backup in place of the live install (``csm-go-facts.md`` §3.5).

``csm.yaml`` replaces the config file, ``conf.d`` the whole drop-in directory, and each
top-level entry of ``state/`` the same name in the state directory; live state entries the
archive does not hold are removed (``csm.lock`` is kept), a component the archive does not hold
is left alone.  First every new copy is written beside its target (``.csm-restore-new-*``,
fsynced) and every target checked for symlinks; only then is each target renamed aside
(``.csm-restore-old-*``) and its new copy renamed in.  A failure on the way renames everything
back in reverse order; the old copies are deleted only once every swap succeeded."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from csm import atomic
from csm.backup.archive import Layout
from csm.backup.staging import Staged
from csm.errors import RefusedError, RolledBackError
from csm.store.lock import LOCK_NAME

KEPT: Final = frozenset({LOCK_NAME})


def rename(source: Path, target: Path) -> None:
    """The one way a restore moves a live entry (a seam: tests inject a failure here)."""
    os.replace(source, target)


@dataclass(frozen=True, slots=True)
class _Step:
    source: Path | None  # the staged copy; None: the live entry goes (a stale state entry)
    target: Path


@dataclass(frozen=True, slots=True)
class Commit:
    replaced: tuple[str, ...]  # live paths replaced from the archive
    removed: tuple[str, ...]  # stale state entries removed


def check(staged: Staged, layout: Layout) -> None:
    """Refuse now, before anything is locked or written, what :func:`commit` would refuse."""
    for step in _plan(staged, layout):
        _refuse_symlinks(step.target)


def commit(staged: Staged, layout: Layout) -> Commit:
    """Replace the live components with the staged ones, all or nothing."""
    steps = _plan(staged, layout)
    for step in steps:
        _refuse_symlinks(step.target)
    token = secrets.token_hex(4)
    prepared: dict[Path, Path] = {}
    try:
        for step in steps:
            if step.source is not None:
                prepared[step.target] = _prepare(step.source, step.target, token)
        moved = _swap(steps, prepared, token)
    except BaseException:
        for new in prepared.values():
            _remove(new)
        raise
    for parent in {s.target.parent for s in steps}:
        atomic.sync_directory(parent)
    for old in moved:
        _remove(old)
    return Commit(
        tuple(str(s.target) for s in steps if s.source is not None),
        tuple(str(s.target) for s in steps if s.source is None),
    )


def _plan(staged: Staged, layout: Layout) -> list[_Step]:
    steps = []
    if "csm.yaml" in staged.components:
        steps.append(_Step(staged.path("csm.yaml"), layout.config))
    if "conf.d" in staged.components:
        steps.append(_Step(staged.path("conf.d"), layout.dropins))
    if "state" in staged.components:
        new = sorted(p.name for p in staged.path("state").iterdir())
        steps += [_Step(staged.path("state") / name, layout.state / name) for name in new]
        present = layout.state.iterdir() if layout.state.is_dir() else iter(())
        live = sorted(p.name for p in present if p.name not in KEPT)
        steps += [_Step(None, layout.state / name) for name in live if name not in new]
    return steps


def _refuse_symlinks(target: Path) -> None:
    """A symlink at or below a target could send the restore elsewhere: refused."""
    found = [target] if target.is_symlink() else []
    if not found and target.is_dir():
        for top, dirs, files in os.walk(target):
            found += [Path(top, n) for n in (*dirs, *files) if Path(top, n).is_symlink()]
    if found:
        raise RefusedError(
            f"restore refused: {found[0]} is a symbolic link (a restore never writes through one);"
            " nothing was changed",
            fix=f"replace {found[0]} with the file or directory it points to, then restore again",
        )


def _prepare(source: Path, target: Path, token: str) -> Path:
    """The staged copy written beside its target (same filesystem), fsynced."""
    new = target.parent / f".csm-restore-new-{token}-{target.name}"
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, new, copy_function=_copy_file)
        os.chmod(new, 0o700)
    else:
        _copy_file(source, new)
    return new


def _copy_file(source: str | Path, target: str | Path) -> None:
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with open(source, "rb") as reading, os.fdopen(descriptor, "wb") as writing:
        shutil.copyfileobj(reading, writing)
        writing.flush()
        os.fsync(writing.fileno())


def _swap(steps: list[_Step], prepared: dict[Path, Path], token: str) -> list[Path]:
    """Each target aside, then its new copy in; on failure, every move undone in reverse.
    The old copies, to delete once all succeeded."""
    moves: list[tuple[Path, Path]] = []  # (from, to), in the order done
    olds: list[Path] = []
    try:
        for step in steps:
            if os.path.lexists(step.target):
                old = step.target.parent / f".csm-restore-old-{token}-{step.target.name}"
                rename(step.target, old)
                moves.append((step.target, old))
                olds.append(old)
            if step.target in prepared:
                rename(prepared[step.target], step.target)
                moves.append((prepared[step.target], step.target))
    except OSError as exc:
        for source, moved in reversed(moves):
            os.replace(moved, source)
        raise RolledBackError(
            f"restore failed while replacing {step.target}: {exc.strerror or exc}; the install"
            " was put back as it was"
        ) from None
    return olds


def _remove(path: Path) -> None:
    """One of the restore's own copies (never a customer file)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
