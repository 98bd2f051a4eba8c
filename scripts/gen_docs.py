"""Rewrite the generated parts of docs/ (CLI reference, exit codes, settings, OpenAPI)."""

from __future__ import annotations

from pathlib import Path

from csm.api.app import document
from csm.cli.reference import write
from csm.jsonio import dumps

if __name__ == "__main__":
    docs = Path(__file__).resolve().parent.parent / "docs"
    for path in write(docs):
        print(f"updated {path}")
    openapi = docs / "openapi.json"
    text = dumps(document()) + "\n"
    if not openapi.exists() or openapi.read_text() != text:
        openapi.write_text(text)
        print(f"updated {openapi}")
