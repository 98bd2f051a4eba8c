"""The HTTP server inside the daemon: uvicorn on the daemon's own event loop, on a socket
bound here (so port 0 gets a free port, and an address in use is reported, not fatal: the
daemon goes on monitoring).  HTTPS when ``api.tls_cert`` and ``api.tls_key`` are set."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from csm.api import app as asgi
from csm.api.auth import FailedLogins, Gatekeeper, Sessions
from csm.api.context import ApiContext
from csm.api.feed import Feed
from csm.api.metrics import Metrics
from csm.api.tokens import Tokens
from csm.app import App
from csm.incidents.model import Finding, RecordResult
from csm.store.db import Store

SHUTDOWN = 3  # seconds open requests (event streams) get when the daemon stops


@dataclass
class Listening:
    url: str = ""
    error: str = ""


class _Embedded(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the daemon handles its own signals


class ApiServer:
    def __init__(self, app: Callable[[], App], daemon_status: Callable[[], dict[str, Any]]):
        self.app = app
        first = app()
        settings = first.config.api
        self.feed = Feed()
        self.metrics = Metrics(lambda: Store.open_readonly(self.app().state_dir))
        gate = Gatekeeper(
            lambda: Tokens.from_config(self.app().config.api.tokens),
            Sessions(settings.session_ttl.total_seconds()),
            FailedLogins(settings.login_failures),
        )
        self.secure = settings.tls_cert is not None
        self.ctx = ApiContext(app, daemon_status, self.feed, gate, self.metrics, self.secure)
        self.listening = Listening()
        self._server: _Embedded | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        app = self.app()
        settings = app.config.api
        try:
            sock = _bind(settings.listen)
        except OSError as exc:
            self.listening.error = f"cannot listen on {settings.listen}: {exc.strerror or exc}"
            return
        cert = app.host.path(settings.tls_cert) if settings.tls_cert else None
        key = app.host.path(settings.tls_key) if settings.tls_key else None
        config = uvicorn.Config(
            asgi.build(self.ctx),
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            ssl_certfile=cert,
            ssl_keyfile=key,
            timeout_graceful_shutdown=SHUTDOWN,
            server_header=False,
        )
        self._server = _Embedded(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        self.listening.url = _url(sock, secure=cert is not None)

    def recorded(self, findings: list[Finding], result: RecordResult) -> None:
        """A batch the daemon recorded: to the metrics and the open event streams."""
        self.metrics.recorded(findings)
        self.feed.publish(findings, result)

    def status(self) -> dict[str, str]:
        return {"url": self.listening.url, "error": self.listening.error}

    async def close(self) -> None:
        self.feed.close()
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._task, SHUTDOWN + 2)


def _bind(listen: str) -> socket.socket:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio then sets TCP_NODELAY on each connection (with proto 0 it
    # does not, and every answer waits 40 ms for the client's delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket, *, secure: bool) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if secure else 'http'}://{shown}:{port}/"
