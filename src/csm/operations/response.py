"""Database objects and WordPress users, files to the quarantine and back, as operations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from csm.app import App
from csm.operations.base import Talk
from csm.response.quarantine import Listed
from csm.response.repo import ObjectBackup

Kind = Literal["trigger", "event", "procedure", "function"]


@dataclass(frozen=True, slots=True)
class DropObject:
    """``csm db drop-object ACCOUNT SCHEMA KIND NAME [--preview]``."""

    name: ClassVar[str] = "db.drop_object"
    account: str
    schema: str
    kind: Kind
    object: str
    preview: bool = False

    def run(self, app: App, talk: Talk) -> ObjectBackup:
        with app.db_objects() as service:
            return service.drop(
                self.account,
                self.schema,
                self.kind,
                self.object,
                who=app.operator,
                preview=self.preview,
            )


@dataclass(frozen=True, slots=True)
class RemoveUser:
    """``csm db remove-user ACCOUNT SCHEMA LOGIN [--preview]``."""

    name: ClassVar[str] = "db.remove_user"
    account: str
    schema: str
    login: str
    preview: bool = False

    def run(self, app: App, talk: Talk) -> ObjectBackup:
        with app.db_objects() as service:
            return service.remove_user(
                self.account, self.schema, self.login, who=app.operator, preview=self.preview
            )


@dataclass(frozen=True, slots=True)
class RestoreObject:
    """``csm db restore-object BACKUP_ID``."""

    name: ClassVar[str] = "db.restore_object"
    backup_id: str

    def run(self, app: App, talk: Talk) -> ObjectBackup:
        with app.db_objects() as service:
            return service.restore(self.backup_id, app.operator)


@dataclass(frozen=True, slots=True)
class QuarantineFile:
    """``csm quarantine PATH [--reason]``."""

    name: ClassVar[str] = "quarantine.put"
    path: str
    reason: str = ""

    def run(self, app: App, talk: Talk) -> Listed:
        with app.quarantine() as service:
            return service.put(self.path, self.reason, app.operator)


@dataclass(frozen=True, slots=True)
class RestoreFile:
    """``csm quarantine restore ID``."""

    name: ClassVar[str] = "quarantine.restore"
    entry_id: str

    def run(self, app: App, talk: Talk) -> Listed:
        with app.quarantine() as service:
            return service.restore(self.entry_id, app.operator)
