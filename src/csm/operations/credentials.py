"""Credential rotation and deferral, as operations.

A rotation that shows its new passwords tells each one as a ``secret`` event the operator's
terminal must confirm before that credential is set: through the daemon too, a new password
reaches the operator first, and a client gone leaves the rest unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from csm.app import App
from csm.credentials.model import Deferral, Outcome, Rotation
from csm.credentials.service import RotateRequest
from csm.operations.base import Talk, Told

SECRET, SETTLED, PROGRESS = "secret", "settled", "progress"


@dataclass(frozen=True, slots=True)
class Rotate:
    """``csm creds rotate ACCOUNT ITEM…``: ``show`` tells each new password (a ``secret``
    event, confirmed) before it is set; ``progress`` tells each item as it is done."""

    name: ClassVar[str] = "creds.rotate"
    account: str
    items: tuple[str, ...] = ()
    all: bool = False
    dry_run: bool = False
    secrets_out: Path | None = None  # absolute: the daemon writes it
    show_secrets: bool = False
    show: bool = False
    progress: bool = False

    def run(self, app: App, talk: Talk) -> Rotation:
        length = app.config.credentials.password_length
        request = RotateRequest(
            self.items, self.all, self.dry_run, length, self.secrets_out, self.show_secrets
        )
        shown = TalkedSecrets(talk) if self.show else None
        progress = Told(talk, PROGRESS) if self.progress else None
        with app.credentials() as service:
            return service.rotate(self.account, request, app.operator, shown, progress)


class TalkedSecrets:
    """The new passwords told to the operator (each confirmed before it is set)."""

    def __init__(self, talk: Talk) -> None:
        self.talk = talk

    def keep(self, item: str, secret: str) -> None:
        self.talk.confirm(SECRET, {"item": item, "secret": secret})

    def settle(self, outcome: Outcome) -> None:
        self.talk.tell(SETTLED, outcome)


@dataclass(frozen=True, slots=True)
class Defer:
    """``csm creds defer ACCOUNT [ITEM…] --reason``."""

    name: ClassVar[str] = "creds.defer"
    account: str
    items: tuple[str, ...]
    reason: str

    def run(self, app: App, talk: Talk) -> Deferral:
        with app.credentials() as service:
            return service.defer(self.account, self.items, self.reason, app.operator)
