"""Every operation is registered under its own name, and its request and result cross the
control socket through their own types: dumped to JSON and read back equal."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
from typing import Any

import pytest
from pydantic import TypeAdapter

import csm.operations
from csm.operations.base import result_type
from csm.operations.registry import OPERATIONS


def defined() -> list[type[Any]]:
    found = []
    for info in pkgutil.iter_modules(csm.operations.__path__):
        module = importlib.import_module(f"csm.operations.{info.name}")
        for _, kind in inspect.getmembers(module, inspect.isclass):
            if kind.__module__ == module.__name__ and isinstance(getattr(kind, "name", None), str):
                found.append(kind)
    return found


def test_every_operation_is_registered_once_under_its_name() -> None:
    kinds = defined()
    assert sorted(k.name for k in kinds) == sorted(OPERATIONS)
    assert all(OPERATIONS[k.name] is k for k in kinds)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_result_type_is_known_and_decodable(name: str) -> None:
    returned = result_type(OPERATIONS[name])
    assert returned is not Any
    TypeAdapter(returned)  # pydantic can decode what the daemon sends back


def _sample(kind: type[Any]) -> Any:
    """A request with every field given a value of its declared type (from the defaults)."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(kind):
        if field.default is not dataclasses.MISSING:
            continue
        values[field.name] = {
            "account": "acme",
            "ids": ("1a2b3c-000001-AB",),
            "action": "remove",
            "paths": (csm.operations.__path__[0],),
            "kind": "trigger",
            "to": "resolved",
            "request": {"older_than": 3600},
            "out": "/root/x.tar.gz",
            "items": ("mailbox:info@acme.test",),
            "direction": "outbound",
            "selection": {"sender": "spam@acme.test"},
            "limit": 100,
        }.get(field.name, "x")
    return TypeAdapter(kind).validate_python(values)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_a_request_round_trips_through_json(name: str) -> None:
    kind = OPERATIONS[name]
    request = _sample(kind)
    sent = json.loads(json.dumps(TypeAdapter(kind).dump_python(request, mode="json")))
    assert TypeAdapter(kind).validate_python(sent) == request
