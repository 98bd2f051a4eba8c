"""The docs that are generated stay current, and every setting is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from csm.cli import reference
from csm.config.model import settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("name", sorted(reference.DOCUMENTS))
def test_generated_docs_are_current(name: str) -> None:
    path = DOCS / name
    assert path.read_text() == reference.render(path, reference.DOCUMENTS[name]()), (
        f"docs/{name} is stale: run `make docs`"
    )


def test_the_command_summaries_are_current() -> None:
    """`csm --help` lists each command with its own one-line help (generated)."""
    assert reference.SUMMARIES.read_text() == reference.summaries(), "run `make docs`"


def test_every_setting_is_in_the_config_reference() -> None:
    text = (DOCS / "config.md").read_text()
    missing = [s.path for s in settings() if f"| `{s.path}` |" not in text]
    assert missing == []


def test_every_exit_code_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    for exit_code, code, _ in reference.exit_code_table():
        assert f"| {exit_code} | `{code}` |" in text


def test_readme_starts_with_the_two_commands() -> None:
    head = (DOCS.parent / "README.md").read_text().splitlines()[:12]
    assert any("make demo" in line for line in head)
    assert any("make test" in line for line in head)
