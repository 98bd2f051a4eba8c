"""Rewrite the generated parts of docs/ (CLI reference, exit codes, settings)."""

from __future__ import annotations

from pathlib import Path

from csm.cli.reference import write

if __name__ == "__main__":
    for path in write(Path(__file__).resolve().parent.parent / "docs"):
        print(f"updated {path}")
