"""A backup of CSM's own state (recorded in the store it copies), as an operation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from csm.app import App
from csm.backup.archive import Written
from csm.operations.base import Talk


@dataclass(frozen=True, slots=True)
class TakeBackup:
    """``csm backup OUT.tar.gz [--force]``."""

    name: ClassVar[str] = "backup.create"
    out: Path  # absolute: the daemon writes it
    force: bool = False

    def run(self, app: App, talk: Talk) -> Written:
        return app.backups().create(self.out, app.operator, force=self.force)
