"""Hostile control requests: any bytes, any JSON, any arguments get an error reply or a
result, never an exception the server did not expect (and the daemon keeps serving)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm.audit import AuditLog
from csm.clock import FixedClock
from csm.config.incidents import IncidentsConfig
from csm.daemon.commands import IncidentCommands
from csm.daemon.control import _parse
from csm.errors import CsmError, UsageError
from csm.incidents.service import Incidents
from csm.store.db import Store
from tests.incidents.conftest import T0

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_are_a_usage_error(line: bytes) -> None:
    try:
        cmd, args = _parse(line)
    except UsageError:
        return
    assert isinstance(cmd, str) and isinstance(args, dict)


@given(JSON)
def test_any_json_parses_or_is_a_usage_error(value: Any) -> None:
    try:
        cmd, args = _parse(json.dumps(value).encode())
    except UsageError:
        assert (
            not isinstance(value, dict)
            or not isinstance(value.get("cmd"), str)
            or (value.get("args") is not None and not isinstance(value.get("args"), dict))
        )
        return
    assert cmd == value["cmd"] and args == (value.get("args") or {})


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["set_status", "review", "bulk_status", "sweep"]),
    st.dictionaries(
        st.sampled_from(["incident_id", "to", "details", "who", "note", "request", "apply"]),
        JSON,
        max_size=6,
    ),
)
def test_any_arguments_are_a_result_or_a_typed_error(
    tmp_path: Path, command: str, args: dict[str, Any]
) -> None:
    clock = FixedClock(T0)
    store = Store.open(tmp_path / "state", clock=clock)
    try:
        config = IncidentsConfig.model_validate({"require_backup_within": 0})
        incidents = Incidents(store, config, clock, AuditLog(store, tmp_path / "log", clock))
        handler = getattr(IncidentCommands(lambda: incidents), command)
        with contextlib.suppress(CsmError):  # anything else fails the test
            handler(args)
    finally:
        store.close()
