"""Hostile control requests: any bytes, any JSON, any arguments get an error reply or a
result, never an exception the server did not expect (and the daemon keeps serving)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csm import app as composition
from csm.app import App
from csm.clock import SystemClock
from csm.config import loader
from csm.daemon.commands import Operations
from csm.daemon.control import _parse
from csm.drill.build import build
from csm.errors import CsmError, UsageError
from csm.operations.registry import OPERATIONS

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


@pytest.fixture(scope="module")
def drill_app(tmp_path_factory: pytest.TempPathFactory) -> App:
    host = build(tmp_path_factory.mktemp("fuzz") / "host", 1, SystemClock())
    loaded = loader.load(host.config_path, host.config_path.with_suffix(".d"), {})
    return composition.build(loaded, {})


def _requests() -> st.SearchStrategy[dict[str, Any]]:
    """Requests shaped like an operation's (its own field names, any JSON in them), or not."""
    fields = sorted({f.name for kind in OPERATIONS.values() for f in dataclasses.fields(kind)})
    return st.dictionaries(st.sampled_from(fields), JSON, max_size=6) | JSON


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from([*OPERATIONS, "nope", ""]) | st.text(max_size=10),
    _requests(),
    st.booleans(),
)
@example("incidents.sweep", {"apply": True}, True)  # a valid one
@example("creds.rotate", {"account": "x", "secrets_out": 5}, True)
def test_any_operation_request_is_checked_or_a_typed_error(
    drill_app: App, name: str, request: Any, own_store: bool
) -> None:
    """Any name, request and store: a request of the named operation's own type, or a typed
    error (nothing runs here: the services check their arguments again)."""
    state_dir = str(drill_app.state_dir) if own_store else "/elsewhere"
    args = {"name": name, "request": request, "who": "cli:fuzz", "state_dir": state_dir}
    try:
        checked = Operations(lambda: drill_app).request(args, drill_app)
    except CsmError:
        return
    assert type(checked) is OPERATIONS[name] and own_store
