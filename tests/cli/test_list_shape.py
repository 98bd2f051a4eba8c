"""Every list command prints one JSON shape: ``{"items": [...], "count": n, "problems": [...]}``
(plus what a command adds), and a message's id is ``id`` everywhere."""

from __future__ import annotations

from typing import Any

import click
import pytest

from csm.cli.main import COMMANDS, LazyGroup
from csm.cli.main import cli as csm_cli
from csm.drill.build import DrillHost
from csm.drill.mailqueue import build_queue

LISTS = {
    ("accounts", "list"): (),
    ("incidents", "list"): ("--all",),
    ("mail", "holds"): (),
    ("quarantine", "list"): (),
    ("queue", "list"): (),
    ("queue", "quarantine", "list"): (),
    ("queue", "trash", "list"): (),
    ("firewall", "list"): (),
    ("db", "objects"): ("{account}",),
    ("scan",): ("--all", "--checks", "files"),
}


def leaf_lists() -> set[tuple[str, ...]]:
    """Every command named ``list`` (or that lists: ``holds``, ``objects``) in the CLI."""
    found: set[tuple[str, ...]] = set()

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, (*path, name))
            elif name in ("list", "holds", "objects"):
                found.add((*path, name))

    assert isinstance(csm_cli, LazyGroup) and COMMANDS
    walk(csm_cli, ())
    return found


def test_every_listing_command_is_checked() -> None:
    assert leaf_lists() <= set(LISTS)


@pytest.mark.exim
def test_every_list_has_items_count_and_problems(cli_run: Any, drill_db: DrillHost) -> None:
    drill = drill_db
    build_queue(drill, 1)
    account = drill.accounts[0].user
    for command, extra in LISTS.items():
        args = [a.format(account=account) for a in extra]
        result = cli_run(*command, *args, "--json")
        assert result.code in (0, 1), (command, result.err)  # scan: 1 when a check found harm
        shown = result.json()
        assert {"items", "count", "problems"} <= set(shown), (command, sorted(shown))
        assert shown["count"] == len(shown["items"]) and isinstance(shown["problems"], list)
        for item in shown["items"]:
            assert "msgid" not in item, command


@pytest.fixture
def cli_run(cli: Any) -> Any:
    return cli
