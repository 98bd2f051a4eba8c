from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from csm.audit import AuditLog, current_operator
from csm.clock import FixedClock
from csm.store.db import Store


def test_each_record_is_a_store_row_and_a_json_line(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 11, 22, 3, 0, tzinfo=UTC))
    store = Store.open(tmp_path / "state", clock=clock)
    audit = AuditLog(store, tmp_path / "log", clock)
    try:
        audit.record("cli:root", "incident.status", "INC-1", {"to": "contained", "why": "spam"})
        clock.advance(timedelta(minutes=5))
        audit.record("api:ops", "queue.remove", "1xVBi7-0001zq-1t")
        lines = (tmp_path / "log" / "audit.jsonl").read_text().splitlines()
        first = json.loads(lines[0])
        assert first == {
            "when": "2026-11-22T03:00:00Z",
            "who": "cli:root",
            "action": "incident.status",
            "target": "INC-1",
            "details": {"to": "contained", "why": "spam"},
        }
        assert json.loads(lines[1])["when"] == "2026-11-22T03:05:00Z"
        entries = audit.entries()
        assert [e.action for e in entries] == ["incident.status", "queue.remove"]
        assert [e.target for e in audit.entries("INC-1")] == ["INC-1"]
        assert (tmp_path / "log" / "audit.jsonl").stat().st_mode & 0o777 == 0o600
    finally:
        store.close()


def test_the_operator_is_the_sudo_user_when_there_is_one() -> None:
    assert current_operator({"SUDO_USER": "alice", "USER": "root"}) == "cli:alice"
    assert current_operator({"USER": "root"}) == "cli:root"
    assert current_operator({}).startswith("cli:")
