"""Incident test helpers: a finding builder, and the service over a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from csm.audit import AuditLog
from csm.clock import FixedClock
from csm.config.incidents import IncidentsConfig
from csm.incidents.model import Finding, Incident, Severity
from csm.incidents.service import Incidents, ListQuery
from csm.store.db import Store

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def finding(
    check: str = "htaccess_injection",
    severity: str = "HIGH",
    at: timedelta = timedelta(),
    **fields: Any,
) -> Finding:
    """A finding ``at`` after T0; message defaults to the check name."""
    fields.setdefault("message", check)
    return Finding(check=check, severity=Severity(severity), time=T0 + at, **fields)


def settings(**overrides: Any) -> IncidentsConfig:
    """The defaults, but the backup rule off (its own tests turn it on)."""
    return IncidentsConfig.model_validate({"require_backup_within": 0, **overrides})


class Harness:
    """The incidents service over a real store, with a clock the test moves."""

    def __init__(self, root: Path, config: IncidentsConfig) -> None:
        self.root = root
        self.config = config
        self.clock = FixedClock(T0 + timedelta(days=1))
        self.store = Store.open(root / "state", clock=self.clock)
        self.service = self.reopen()

    def reopen(self) -> Incidents:
        """A new service over the same store, as after a restart."""
        audit = AuditLog(self.store, self.root / "log", self.clock)
        self.service = Incidents(self.store, self.config, self.clock, audit)
        return self.service

    def record(self, *found: Finding) -> Any:
        return self.service.record(found)

    def incidents(self) -> list[Incident]:
        """Every incident, oldest activity first."""
        return list(reversed(self.service.list(ListQuery(all=True)).items))

    def only(self) -> Incident:
        items = self.incidents()
        assert len(items) == 1, items
        return items[0]

    def sql(self, query: str, *params: Any) -> list[Any]:
        return self.store.conn.execute(query, params).fetchall()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path, settings())
    yield h
    h.store.close()


@pytest.fixture
def make_harness(tmp_path: Path) -> Iterator[Any]:
    made: list[Harness] = []

    def make(**overrides: Any) -> Harness:
        h = Harness(tmp_path / str(len(made)), settings(**overrides))
        made.append(h)
        return h

    yield make
    for h in made:
        h.store.close()
