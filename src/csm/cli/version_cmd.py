"""``csm version``."""

from __future__ import annotations

import click

from csm.cli.output import emit_json, json_option
from csm.version import build_info


@click.command(short_help="Print the version and build.")
@json_option
def version(as_json: bool) -> None:
    """Print `csm <version> (build: <sha>, date: <UTC time>)`."""
    info = build_info()
    if as_json:
        emit_json(info)
    else:
        click.echo(info.line())
