"""Where a rotation keeps each new password *before* the credential changes, so that no
password is ever set that the operator cannot read back (a crash, a full disk, ``kill -9``).

:class:`SecretsFile` is ``--secrets-out``: a new root-only file (``O_CREAT|O_EXCL|
O_NOFOLLOW``, 0600) in an existing directory outside every hosting account's home, one
``item<TAB>password`` line per secret, fsynced before the change; an item whose change then
fails gets a ``# not set…`` comment line.  A :class:`Keeper` that only collects (``--json
--show-secrets``) is :class:`Collected`; the terminal shows secrets as they are kept."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from csm import atomic
from csm.credentials.model import Outcome
from csm.errors import CsmError, RefusedError, UsageError


class Keeper(Protocol):
    """Takes each new secret before its credential changes, and then how the change went."""

    def keep(self, item: str, secret: str) -> None:
        """Store or show ``secret``; raising means the credential must not change."""

    def settle(self, outcome: Outcome) -> None:
        """The change of an item that was kept is done (``outcome.ok``) or did not happen."""


class Collected:
    """Secrets held in memory only, for a result that shows them (not durable)."""

    def keep(self, item: str, secret: str) -> None:
        return None

    def settle(self, outcome: Outcome) -> None:
        return None


class SecretsFile:
    """``--secrets-out``: created before anything changes, each secret fsynced before use."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path, self._fd = path, descriptor

    @classmethod
    def create(cls, path: Path, homes: Sequence[Path]) -> SecretsFile:
        """A new 0600 file at ``path``; RefusedError (nothing changed) when it exists, is a
        link, lies in a missing directory or inside a hosting account's home (``homes``)."""
        path = Path(os.path.abspath(path))
        if not path.name or path.name.endswith("/"):
            raise UsageError("--secrets-out must name a file")
        real = Path(os.path.realpath(path.parent)) / path.name
        if any(_inside(candidate, home) for candidate in (path, real) for home in homes):
            raise RefusedError(
                f"--secrets-out {path} is inside a hosting account's home: nothing was changed",
                fix="write the new passwords where only root can read them, e.g. /root/",
            )
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            descriptor = os.open(path, flags, 0o600)
        except OSError as exc:
            raise RefusedError(
                f"cannot create --secrets-out {path}: {exc.strerror}; nothing was changed",
                fix="give a new file name in an existing directory (it is never overwritten)",
            ) from None
        os.fchmod(descriptor, 0o600)  # whatever the umask
        atomic.sync_directory(path.parent)
        return cls(path, descriptor)

    def keep(self, item: str, secret: str) -> None:
        self._write(f"{_clean(item)}\t{secret}\n")

    def settle(self, outcome: Outcome) -> None:
        if outcome.ok:
            return
        with contextlib.suppress(CsmError):  # the result says it failed; this only reminds
            self._write(f"# not set, the old password stands: {_clean(outcome.item)}\n")

    def close(self) -> None:
        os.close(self._fd)

    def _write(self, line: str) -> None:
        data = line.encode("utf-8")
        try:
            while data:
                data = data[os.write(self._fd, data) :]
            os.fsync(self._fd)
        except OSError as exc:
            raise CsmError(f"cannot write {self.path}: {exc.strerror}") from None


def _inside(path: Path, home: Path) -> bool:
    return path == home or home in path.parents


def _clean(text: str) -> str:
    """An item id on one line (ids come from file names: no tab or line break in the file)."""
    return "".join(c if c.isprintable() else "?" for c in text)
