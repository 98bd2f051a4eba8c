"""The ``operation`` control command: a client's state-changing command run in the daemon
(so the store has one writer), as the operator who asked, and logged."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from logging import WARNING
from typing import Any

from pydantic import TypeAdapter, ValidationError

from csm.app import App
from csm.daemon.control import Conversation
from csm.daemon.journal import event
from csm.errors import CsmError, RefusedError, UsageError
from csm.operations.base import Operation


class Operations:
    def __init__(self, app: Callable[[], App]) -> None:
        self.app = app  # the daemon's (a reload replaces it)

    def __call__(self, args: dict[str, Any], talk: Conversation) -> Any:
        app = self.app()
        request = self.request(args, app)
        name, who = request.name, _text(args, "who") or f"uid:{talk.peer}"
        try:
            result = request.run(dataclasses.replace(app, acting=who), talk)
        except CsmError as exc:
            event(f"operation.{name}", exc.message, level=WARNING, who=who, uid=talk.peer)
            raise
        event(f"operation.{name}", f"{name} done", who=who, uid=talk.peer)
        return result

    def request(self, args: dict[str, Any], app: App) -> Operation[Any]:
        """The client's request, checked: a known operation, on this daemon's store, whose
        arguments are its own (a :class:`~csm.errors.CsmError` otherwise)."""
        from csm.operations.registry import OPERATIONS  # noqa: PLC0415 - the first one loads them

        name = _text(args, "name")
        kind = OPERATIONS.get(name)
        if kind is None:
            raise UsageError(f"unknown operation {name!r}; known: {', '.join(OPERATIONS)}")
        if _text(args, "state_dir") != str(app.state_dir):
            raise RefusedError(
                f"this daemon keeps its state in {app.state_dir},"
                f" the command's configuration in {args.get('state_dir')!r}",
                fix="run the command with the daemon's configuration (or stop that daemon)",
            )
        try:
            request: Operation[Any] = TypeAdapter(kind).validate_python(args.get("request"))
        except ValidationError as exc:
            raise UsageError(f"not a {name} request: {exc.error_count()} problem(s)") from None
        return request


def _text(args: dict[str, Any], name: str) -> str:
    value = args.get(name, "")
    if not isinstance(value, str):
        raise UsageError(f"{name} must be text")
    return value
