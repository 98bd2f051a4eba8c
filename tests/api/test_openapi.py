"""The OpenAPI document names every JSON route with each of its methods, and docs/ has it."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Route

from csm.api.app import document, routes
from csm.jsonio import dumps

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_api_route_is_in_the_document() -> None:
    paths = document()["paths"]
    missing = []
    for route in routes():
        if not isinstance(route, Route) or not route.path.startswith("/api/v1/"):
            continue
        if route.path == "/api/v1/openapi.json":
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            entry = paths.get(route.path, {}).get(method.lower())
            if not entry or not entry.get("summary") or not entry.get("responses"):
                missing.append(f"{method} {route.path}")
    assert missing == []


def test_docs_have_the_current_document() -> None:
    assert (DOCS / "openapi.json").read_text() == dumps(document()) + "\n", "run `make docs`"
