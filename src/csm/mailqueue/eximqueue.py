"""Exim's queue with its actions: ``exim -Mf``, ``-Mt``, ``-Mrm`` and ``-M`` on message ids, and
the spool files copied to the quarantine and back (:mod:`csm.mailqueue.spoolcopy`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from csm.errors import NotFoundError, UnreadableInputError
from csm.mailqueue import spoolfiles
from csm.mailqueue.reader import Queue
from csm.mailqueue.repo import Kept
from csm.mailqueue.source import Action
from csm.mailqueue.spoolcopy import Copied, copy_back, copy_out

OPTIONS: Final = {"freeze": "-Mf", "thaw": "-Mt", "remove": "-Mrm"}


class EximQueue(Queue):
    mta = "exim"

    @property
    def indexed_input(self) -> str | None:
        return str(self.input)

    def header_file(self, msgid: str) -> bytes:
        return _spool_file(self._path(msgid))

    def body_file(self, msgid: str) -> bytes:
        return _spool_file(self._path(msgid).with_name(f"{msgid}-D"))

    def act(self, action: Action, ids: Sequence[str]) -> str:
        done = self.exim.run(OPTIONS[action], *ids)
        return done.stderr.decode("utf-8", "replace").strip()[:200]

    def deliver(self, msgid: str) -> None:
        self.exim.run("-M", msgid)  # a delivery attempt; Exim logs its outcome

    def keep_copy(self, msgid: str, into: Path) -> Copied:
        header = self.header_path(msgid)
        if header is None:
            raise FileNotFoundError(msgid)
        return copy_out(header, into)

    def put_back(self, kept_dir: Path, kept: Kept) -> None:
        copy_back(kept_dir, kept.msgid, self.input, kept.files)

    def _path(self, msgid: str) -> Path:
        path = self.header_path(msgid)
        if path is None:
            raise NotFoundError(f"message {msgid} left the queue while being read")
        return path


def _spool_file(path: Path) -> bytes:
    """A spool file of the message shown; a pipe or a link there is a clear error."""
    try:
        return spoolfiles.read(path)
    except FileNotFoundError:
        raise NotFoundError(f"{path.name}: the message left the queue while being read") from None
    except OSError as exc:
        raise UnreadableInputError(f"{path}: {exc}") from None
