"""Store maintenance: create and migrate the state store, recorded in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from csm.audit import AuditLog
from csm.clock import Clock
from csm.store.db import Store


@dataclass(frozen=True, slots=True)
class MigrateResult:
    path: Path
    applied: tuple[str, ...]
    migrations: tuple[str, ...]


def migrate(state_dir: Path, log_dir: Path, clock: Clock, who: str) -> MigrateResult:
    store = Store.open(state_dir, clock=clock)
    try:
        if store.migrated:
            details = {"applied": list(store.migrated)}
            AuditLog(store, log_dir, clock).record(who, "store.migrate", str(store.path), details)
        return MigrateResult(store.path, store.migrated, store.migration_state().applied)
    finally:
        store.close()
