"""What a forensic snapshot holds and what came of each capture (``csm-go-facts.md`` §3.6)."""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from csm.forensic.quoting import as_bytes
from csm.jsonio import name_text

WINDOW = timedelta(days=7)  # recent mtimes (and, with mail, log lines) this far back, at least
MARGIN = timedelta(days=1)  # before the account's oldest open incident


def window(now: datetime, oldest_incident: datetime | None) -> timedelta:
    """How far back a snapshot looks when not told: a week, or to a day before the account's
    oldest open incident when that began earlier (an attack 12 days old is in its evidence)."""
    if oldest_incident is None:
        return WINDOW
    return max(WINDOW, now - oldest_incident + MARGIN)


class Status(enum.StrEnum):
    OK = "ok"
    ERROR = "error"
    DISABLED = "disabled"  # not asked for (the mail captures without --with-mail)


class Kind(enum.StrEnum):
    """What a capture is of; its counters in the manifest are named after it."""

    DUMP = "dump"  # schema/<schema>-routines.sql: mariadb-dump of structure, routines, …
    ADMINS = "admins"  # schema/<schema>-admins.tsv
    SESSIONS = "sessions"  # schema/<schema>-sessions.tsv
    INVALID_TARGET = "invalid_target"  # schema/invalid-target-<i>.err
    RECENT_MTIMES = "recent_mtimes"  # files/recent-mtimes.tsv
    MAIL_LOG = "mail_log"  # logs/exim_mainlog.txt
    MAIL_QUEUE = "mail_queue"  # mail/queue-headers.txt


def path_text(path: str) -> tuple[str, str]:
    """A host path as (text, base64), as every CSM result shows names
    (:func:`csm.jsonio.name_text`)."""
    return name_text(as_bytes(path))


def path_bytes(text: str, b64: str) -> bytes:
    """The exact bytes of a path kept by :func:`path_text`."""
    try:
        return base64.b64decode(b64, validate=True) if b64 else text.encode("utf-8")
    except binascii.Error:
        return text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class SkippedPath:
    """A path the discovery did not read (``skipped_path=<i>``), and why."""

    path: str  # host path (see :func:`path_text`)
    reason: str  # "private-account-path", "missing-db-name", "duplicate-schema", "unreadable: …"
    path_b64: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """A ``wp-config.php`` naming a database: captured when valid, recorded when not."""

    schema: str  # DB_NAME as read (attacker-controlled when invalid)
    table_prefix: str
    config_path: str  # the wp-config.php, as a host path (see :func:`path_text`)
    valid: bool
    reason: str = ""  # an invalid one's: "invalid-schema", "invalid-table-prefix", "foreign-schema"
    number: int = -1  # an invalid one's <i>: ``invalid_target=<i>``, ``invalid-target-<i>.err``
    config_path_b64: str = ""
    detail: str = ""  # a foreign schema's owner, and how it was decided

    @property
    def config_bytes(self) -> bytes:
        return path_bytes(self.config_path, self.config_path_b64)


@dataclass(frozen=True, slots=True)
class Capture:
    """One archive entry and how its capture went."""

    kind: Kind
    entry: str  # the member's name (``….err`` when the capture failed)
    ok: bool
    schema: str = ""  # the target's, for the schema captures
    count: int = 0  # rows, files, lines or messages captured
    error: str = ""  # why it failed (also the ``.err`` member's body)


@dataclass
class Listing:
    """What a listing capture (recent mtimes, mail log lines, queued headers) wrote."""

    count: int = 0  # files, lines or messages
    errors: list[str] = field(default_factory=list)  # what could not be read, and why


@dataclass(frozen=True, slots=True)
class Manifest:
    """``manifest.txt``: the Go keys in the Go order, then CSM's own."""

    account: str
    timestamp: datetime
    schema_count: int  # targets discovered, valid and invalid
    discovery_root: str
    private_top_excluded: tuple[str, ...]
    skipped: tuple[SkippedPath, ...]
    targets: tuple[Target, ...]
    valid_target_count: int
    invalid_target_count: int
    dump_success_count: int
    dump_error_count: int
    admins_success_count: int
    admins_error_count: int
    sessions_success_count: int
    sessions_error_count: int
    recent_mtimes_status: Status
    # CSM's additions, after the Go keys:
    window_start: datetime  # recent mtimes and mail log lines from here to the timestamp
    recent_mtimes_count: int
    mail_log_status: Status
    mail_log_lines: int
    mail_queue_status: Status
    queued_messages: int


@dataclass(frozen=True, slots=True)
class SnapshotResult:
    """``csm forensic-snapshot``'s result (``--json``)."""

    account: str
    path: Path  # the archive
    sidecar: Path  # ``<path>.sha256``
    sha256: str
    size: int  # bytes
    timestamp: datetime
    complete: bool  # every capture succeeded
    manifest: Manifest
    captures: tuple[Capture, ...]

    @property
    def failed(self) -> tuple[Capture, ...]:
        return tuple(c for c in self.captures if not c.ok)
