"""The append-only audit log: one JSON line in ``log_dir/audit.jsonl`` and one store row per
state change, each with who, when, what (action), the target and details."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from csm.clock import Clock, isoformat
from csm.store.db import Store
from csm.store.times import parse_ts, ts

AUDIT_FILE = "audit.jsonl"
LOG_DIR_MODE = 0o700


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    who: str
    action: str
    target: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "when": isoformat(self.at),
            "who": self.who,
            "action": self.action,
            "target": self.target,
            "details": dict(self.details),
        }


class AuditLog:
    def __init__(self, store: Store, log_dir: Path, clock: Clock) -> None:
        self.store = store
        self.path = log_dir / AUDIT_FILE
        self.clock = clock

    def record(
        self, who: str, action: str, target: str, details: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """Store the row, then append and fsync the JSON line; both or an error."""
        return self.record_many(who, action, [(target, details or {})])[0]

    def record_many(
        self, who: str, action: str, targets: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[AuditEntry]:
        """Several entries in one transaction and one fsynced write (bulk changes)."""
        at = self.clock.now()
        entries = [
            AuditEntry(at, who, action, target, dict(details)) for target, details in targets
        ]
        if not entries:
            return []
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO audit_log (at, who, action, target, details) VALUES (?, ?, ?, ?, ?)",
                [(ts(at), who, action, e.target, _json(e.details)) for e in entries],
            )
            _append_lines(self.path, [_line(e) for e in entries])
        return entries

    def page(self, limit: int, offset: int = 0) -> tuple[list[AuditEntry], int]:
        """The newest entries first, ``limit`` of them from ``offset``; and how many there are."""
        total = self.store.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        rows = self.store.conn.execute(
            "SELECT at, who, action, target, details FROM audit_log ORDER BY id DESC"
            " LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        found = [
            AuditEntry(parse_ts(at), who, action, tgt, json.loads(details))
            for at, who, action, tgt, details in rows
        ]
        return found, int(total)

    def entries(self, target: str | None = None) -> list[AuditEntry]:
        sql = "SELECT at, who, action, target, details FROM audit_log"
        rows = self.store.conn.execute(
            sql + (" WHERE target = ? ORDER BY id" if target else " ORDER BY id"),
            (target,) if target else (),
        ).fetchall()
        return [
            AuditEntry(parse_ts(at), who, action, tgt, json.loads(details))
            for at, who, action, tgt, details in rows
        ]


def _json(details: Mapping[str, Any]) -> str:
    return json.dumps(details, default=str, ensure_ascii=False)


def _line(entry: AuditEntry) -> str:
    return json.dumps(entry.as_dict(), sort_keys=True, ensure_ascii=False, default=str)


def _append_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(mode=LOG_DIR_MODE, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, "".join(line + "\n" for line in lines).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def current_operator(env: Mapping[str, str]) -> str:
    """The person behind a CLI call: the sudo user when there is one, else the login name."""
    user = env.get("SUDO_USER") or env.get("LOGNAME") or env.get("USER")
    if not user:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):
            user = f"uid{os.getuid()}"
    return f"cli:{user}"


class OnDemandAudit:
    """An audit log whose store opens when the first entry is recorded (read-only commands
    that may record something, such as showing a queued message's body); closed by
    :meth:`close`."""

    def __init__(self, open_store: Callable[[], Store], log_dir: Path, clock: Clock) -> None:
        self.open_store = open_store
        self.log_dir = log_dir
        self.clock = clock
        self._log: AuditLog | None = None

    def log(self) -> AuditLog:
        if self._log is None:
            self._log = AuditLog(self.open_store(), self.log_dir, self.clock)
        return self._log

    def close(self) -> None:
        if self._log is not None:
            self._log.store.close()
            self._log = None
