"""The API over a simulated host, in this process (starlette's test client): the daemon's
status is a fixed document, everything else (store, spool, Exim, stand-in cPanel) is real."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from csm.api import app as asgi
from csm.api.server import ApiServer
from csm.app import App, build
from csm.config.loader import load
from csm.drill.build import DrillHost
from csm.drill.mailqueue import build_queue

BASE = "http://testserver"


@dataclass
class Api:
    host: DrillHost
    app: App
    server: ApiServer
    client: TestClient
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def read(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.host.api_tokens['read']}"}

    @property
    def admin(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.host.api_tokens['admin']}"}

    def login(self, scope: str = "admin") -> str:
        """A web UI session for ``scope``'s token (cookie kept by the client); its CSRF token."""
        answer = self.client.post(
            "/login",
            data={"token": self.host.api_tokens[scope], "next": "/"},
            headers={"origin": BASE},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        session = answer.cookies.get("csm_session") or self.client.cookies.get("csm_session")
        assert session
        return self.server.ctx.gate.sessions.get(session).csrf  # type: ignore[union-attr]


@pytest.fixture
def api(drill: DrillHost) -> Iterator[Api]:
    build_queue(drill, 1)  # the drill's mail queue, through the real Exim
    loaded = load(drill.config_path, drill.config_path.parent / "conf.d", dict(os.environ))
    app = build(loaded, dict(os.environ))
    status: dict[str, Any] = {
        "watchers": {"mainlog": {"attached": True, "lines": 10, "skipped": 1, "lag_bytes": 0}},
        "schedules": {"scan_critical": {"runs": 2, "failures": 0, "last_seconds": 0.5}},
        "spool": {"messages": 7},
        "api": {"url": BASE, "error": ""},
    }
    server = ApiServer(lambda: app, lambda: status)
    with TestClient(asgi.build(server.ctx), base_url=BASE) as client:
        yield Api(drill, app, server, client, status)
