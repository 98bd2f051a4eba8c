"""What every route needs: the daemon's current application, its status, the event feed, the
gatekeeper and the metrics; and the two ways a route runs a service (a read, an operation)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from csm.api.auth import Caller, Gatekeeper
from csm.api.feed import Feed
from csm.api.metrics import Metrics
from csm.app import App
from csm.errors import RefusedError, UsageError
from csm.operations.base import Operation

R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
MAX_BODY = 64 * 1024  # a request body larger than this is refused unread


@dataclass
class ApiContext:
    app: Callable[[], App]  # the daemon's, as it is now (a reload replaces it)
    daemon_status: Callable[[], dict[str, Any]]
    feed: Feed
    gate: Gatekeeper
    metrics: Metrics
    secure: bool  # served over TLS

    async def read(self, work: Callable[[App], R]) -> R:
        """``work`` on the application, in a worker thread (reads block on the store)."""
        return await run_in_threadpool(work, self.app())

    async def perform(self, caller: Caller, operation: Operation[R]) -> R:
        """A state change, as the token's owner (audited with the token's name)."""
        app = dataclasses.replace(self.app(), acting=caller.who)
        return await run_in_threadpool(operation.run, app, Unattended())


class Unattended:
    """An operation's talk when nobody can be asked: progress is dropped, and anything that
    must reach the operator first (a new password) refuses the operation instead."""

    def tell(self, name: str, data: Any) -> None:
        return None

    def confirm(self, name: str, data: Any) -> None:
        raise RefusedError(
            "this operation must show its result on a terminal before it goes on",
            fix="run it with the csm command on the server",
        )


def context(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.csm
    return found


async def body(request: Request, model: type[M]) -> M:
    """The request's JSON (or form) body as ``model``: a :class:`UsageError` for anything
    else, and a body over 64 KiB is not read."""
    declared = whole(request.headers.get("content-length", "0"))
    if declared is None or declared > MAX_BODY:
        raise UsageError(f"the request body must be JSON of at most {MAX_BODY} bytes")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise UsageError(f"the request body must be JSON of at most {MAX_BODY} bytes")
    try:
        return model.model_validate_json(bytes(raw))
    except ValidationError as exc:
        raise UsageError(f"the request body is not valid: {_problems(exc)}") from None


def whole(text: str, most: int = 1 << 62) -> int | None:
    """``text`` as a whole number of ASCII digits (at most ``most``), else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    return min(int(text), most)


def query(request: Request, model: type[M]) -> M:
    """The query string as ``model`` (unknown parameters are refused)."""
    params: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, value)
    return parse(model, params)


def parse(model: type[M], params: dict[str, Any]) -> M:
    """Query parameters as ``model``; a :class:`UsageError` naming what is wrong."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise UsageError(f"bad query parameters: {_problems(exc)}") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
    )
