"""What the queue's views and actions need of an MTA's queue, whichever MTA it is: Exim's
spool (:class:`csm.mailqueue.eximqueue.EximQueue`) or Citadel's outbound queue room
(:class:`csm.mailqueue.citadel.CitadelQueue`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

from csm.mailqueue.model import QueuedMessage, QueueRead
from csm.mailqueue.repo import Kept
from csm.mailqueue.spoolcopy import Copied

Action = Literal["freeze", "thaw", "remove"]


class QueueSource(Protocol):
    @property
    def mta(self) -> str:
        """``exim`` or ``citadel``."""
        ...

    @property
    def indexed_input(self) -> str | None:
        """The directory the spool index covers (None: this queue is read whole each time)."""
        ...

    def count(self) -> int: ...

    def read(self, now: int) -> QueueRead:
        """Every queued message; one that cannot be read is reported and skipped."""
        ...

    def message(self, msgid: str) -> QueuedMessage | None:
        """One message by id (None when it is not queued, or no longer)."""
        ...

    def header_file(self, msgid: str) -> bytes:
        """What ``csm queue show`` prints: the envelope and the headers (NotFoundError when the
        message left the queue)."""
        ...

    def body_file(self, msgid: str) -> bytes:
        """The body, as an Exim ``-D`` file holds it (a first line naming it, then the body)."""
        ...

    def act(self, action: Action, ids: Sequence[str]) -> str:
        """Freeze, thaw or remove ``ids`` (the caller reads the queue back to see what
        changed); what the MTA said when something failed ("" when nothing)."""
        ...

    def deliver(self, msgid: str) -> None:
        """Ask for a delivery attempt now."""
        ...

    def keep_copy(self, msgid: str, into: Path) -> Copied:
        """Copy the message into the quarantine directory ``into`` (``<id>-H``, ``<id>-D``)
        before it is removed; FileNotFoundError when it is no longer queued."""
        ...

    def put_back(self, kept_dir: Path, kept: Kept) -> None:
        """Bring a removed message back into the queue, checked against its checksums."""
        ...
