"""What a staged backup must be, beyond its files matching its manifest, before a restore may
put it in place (``csm backup verify`` reports the same):

- its configuration loads: the staged ``csm.yaml`` (else the live one) with the staged
  ``conf.d`` (else the live drop-ins) and the ``CSM_*`` environment, through CSM's own loader,
  exactly as the next command would read it;
- its store is a CSM store this CSM can open: it passes ``PRAGMA integrity_check`` and has a
  ``schema_migrations`` table naming only migrations this CSM knows (pending ones are applied
  when it is next opened);
- and, for a restore, it does not take the store away: an archive whose ``state/`` holds no
  ``csm.db`` is refused while the live install has one."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from urllib.parse import quote

from csm.backup.archive import Layout
from csm.backup.staging import Staged
from csm.config import loader
from csm.errors import ConfigError
from csm.store.db import DB_NAME, MigrationState, Store

STORE: Final = f"state/{DB_NAME}"


def problems(found: Staged, layout: Layout, env: Mapping[str, str]) -> list[str]:
    """Why the staged configuration or store must not be installed (empty: they may)."""
    return config_problems(found, layout, env) + store_problems(found)


def config_problems(found: Staged, layout: Layout, env: Mapping[str, str]) -> list[str]:
    if not {"csm.yaml", "conf.d"} & set(found.components):
        return []  # the live configuration stays as it is
    main = found.path("csm.yaml") if "csm.yaml" in found.components else layout.config
    dropins = found.path("conf.d") if "conf.d" in found.components else layout.dropins
    try:
        loader.load(main, dropins, env)
    except ConfigError as exc:
        listed = [exc.message] + [f"{p.path}: {p.message}" for p in exc.problems]
        text = "; ".join(listed).replace(f"{found.root}/", "")
        return [f"the configuration it holds does not load: {text}"]
    return []


def store_problems(found: Staged) -> list[str]:
    if STORE not in found.files:
        return []
    path = found.path(STORE)
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True)
        try:
            store = Store(conn, path)
            verdict, state = store.integrity(), store.migration_state()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return [f"{STORE}: fails its integrity check ({exc})"]
    if verdict != "ok":
        return [f"{STORE}: fails its integrity check ({verdict})"]
    return _migration_problems(state)


def _migration_problems(state: MigrationState) -> list[str]:
    if not state.applied:
        return [f"{STORE}: not a CSM store (no schema_migrations)"]
    if state.unknown:
        return [
            f"{STORE}: written by a newer CSM (migrations this CSM does not know:"
            f" {', '.join(state.unknown)})"
        ]
    return []


def keeps_store(found: Staged, layout: Layout) -> list[str]:
    """A ``state/`` without a store would delete the live store on restore."""
    live = Path(layout.state, DB_NAME)
    if "state" in found.components and STORE not in found.files and live.exists():
        return [f"state/ holds no {DB_NAME}: restoring it would remove the live store {live}"]
    return []
