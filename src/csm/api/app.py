"""The ASGI application the daemon serves: the JSON API, the web UI, ``/metrics``, the OpenAPI
document, with security headers on every answer and errors in the CLI's envelope."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from csm import jsonio
from csm.api import pages, v1
from csm.api.context import ApiContext, context
from csm.api.metrics import CONTENT_TYPE
from csm.errors import CsmError, NotFoundError, UsageError
from csm.version import __version__

CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none';"
    " object-src 'none'"
)
SCHEMA = SchemaGenerator({"openapi": "3.0.3", "info": {"title": "CSM API", "version": __version__}})


def build(ctx: ApiContext) -> Starlette:
    handlers: Any = {CsmError: _error, HTTPException: _http_error}
    app = Starlette(routes=routes(), exception_handlers=handlers)
    app.state.csm = ctx
    app.add_middleware(Headers, ctx=ctx)
    return app


def routes() -> list[BaseRoute]:
    """Every route the daemon serves."""
    return [
        *v1.ROUTES,
        Route("/api/v1/openapi.json", openapi, include_in_schema=False),
        Route("/metrics", metrics, include_in_schema=False),
        *pages.ROUTES,
    ]


def document() -> dict[str, Any]:
    """The OpenAPI document of the JSON API (from each endpoint's docstring)."""
    schema: dict[str, Any] = SCHEMA.get_schema(routes())
    paths = schema.get("paths", {})
    schema["paths"] = {path: dict(sorted(paths[path].items())) for path in paths}  # stable
    return schema


async def openapi(request: Request) -> Response:
    return v1.Json(document())


async def metrics(request: Request) -> Response:
    """Prometheus text; a read token or a UI session."""
    ctx = context(request)
    ctx.gate.caller(request)
    status = ctx.daemon_status()  # on the daemon's loop, which changes it
    rendered = await ctx.read(lambda _app: ctx.metrics.render(status))
    return Response(rendered, media_type=CONTENT_TYPE)


async def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CsmError)
    if not pages.wants_json(request):
        return await pages.error_page(request, exc)
    headers = {}
    if exc.kind.http_status == 401:
        headers["www-authenticate"] = 'Bearer realm="csm"'
    if exc.kind.http_status == 429 and exc.details:
        headers["retry-after"] = str(exc.details.get("retry_after", 60))
    return v1.Json(jsonio.error_envelope(exc), exc.kind.http_status, headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own (no such route, method not allowed) in the same envelope."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await _error(request, NotFoundError(f"no such page: {request.url.path}"))
    envelope = {"ok": False, "error": str(exc.detail), "code": UsageError.kind.code}
    return v1.Json(envelope, exc.status_code, exc.headers)


class Headers:
    """Security headers on every answer, and every answer counted by status."""

    def __init__(self, app: ASGIApp, ctx: ApiContext) -> None:
        self.app, self.ctx = app, ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.ctx.metrics.requests.labels(str(message["status"])).inc()
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in self._headers().items()]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)

    def _headers(self) -> dict[str, str]:
        found = {
            "content-security-policy": CSP,
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "same-origin",
        }
        if self.ctx.secure:
            found["strict-transport-security"] = "max-age=31536000"
        return found
