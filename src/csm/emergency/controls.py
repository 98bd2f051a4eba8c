"""What acts on a stop on this host's mail server, whichever it is: on Exim the flag files
its configuration reads (:class:`EximControls`), on Citadel the drop-in that restarts citserver
without outbound sessions and the SMTP ports of its site configuration
(:class:`csm.emergency.citadel.CitadelControls`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from csm.emergency.flags import EximFlags, Flags


class Controls(Protocol):
    @property
    def mta(self) -> str: ...

    def present(self, direction: str) -> bool:
        """Whether a stop in ``direction`` is in place on the mail server now."""
        ...

    def where(self, direction: str) -> str:
        """What is in place, in words (for a stop no record accounts for)."""
        ...

    def lower(self, direction: str) -> None:
        """Take away a stop no record accounts for (mail flows again)."""
        ...

    def missing(self, direction: str) -> list[str]:
        """What the mail server lacks for a stop in ``direction`` to work (CsmError when it
        cannot be checked)."""
        ...


@dataclass(frozen=True, slots=True)
class EximControls:
    flags: Flags
    exim: EximFlags
    mta: str = "exim"

    def present(self, direction: str) -> bool:
        return self.flags.present(direction)

    def where(self, direction: str) -> str:
        return f"{self.flags.path(direction)} is in place"

    def lower(self, direction: str) -> None:
        self.flags.lower(direction)

    def missing(self, direction: str) -> list[str]:
        return self.exim.installed().missing(direction)
