"""Credential items of an account, their state, and the records of rotation and deferral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Kind = Literal["cpanel", "ftp", "mailbox", "wordpress", "mysql", "secret"]
State = Literal["pending", "rotated", "deferred"]
KINDS: tuple[Kind, ...] = ("cpanel", "ftp", "mailbox", "wordpress", "mysql", "secret")


@dataclass(frozen=True, slots=True)
class Event:
    """One record: an item rotated, or its rotation deferred for ``reason``."""

    account: str
    item: str
    action: Literal["rotated", "deferred"]
    at: datetime
    who: str
    reason: str = ""
    method: str = ""  # how it was rotated: "uapi", "whmapi1", "shadow", "mysql", …


@dataclass(frozen=True, slots=True)
class Item:
    """A credential to rotate, with a stable id (``mailbox:info@example.com``)."""

    id: str
    kind: Kind
    label: str
    flagged: bool = False  # named by one of the account's open incidents
    state: State = "pending"
    at: datetime | None = None  # of the last rotation or deferral
    reason: str = ""  # of the last deferral
    method: str = ""  # how it rotates here: "uapi", "shadow", "mysql", "wordpress", "manual"


@dataclass(frozen=True, slots=True)
class Plan:
    account: str
    panel: str
    items: tuple[Item, ...]
    notes: tuple[str, ...] = ()  # what could not be listed, and why

    @property
    def pending(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.state == "pending")


@dataclass(frozen=True, slots=True)
class Status:
    """``csm creds status``: the plan, and what the close guard and the mail queue wait for."""

    plan: Plan
    required: tuple[str, ...]  # items that must be rotated or deferred
    waiting: tuple[str, ...]  # of those, the ones still pending

    @property
    def gate_met(self) -> bool:
        return not self.waiting


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one item's rotation did."""

    item: str
    ok: bool
    method: str
    detail: str = ""  # the error, or what was changed
    secret: str = ""  # the new password (shown once; never logged, never in the audit)
    skipped: bool = False  # not CSM's to rotate (an application key)


@dataclass(frozen=True, slots=True)
class Rotation:
    account: str
    dry_run: bool
    outcomes: tuple[Outcome, ...]
    secrets_file: str = ""

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok and not o.skipped)


@dataclass(frozen=True, slots=True)
class Deferral:
    account: str
    items: tuple[str, ...]
    reason: str
