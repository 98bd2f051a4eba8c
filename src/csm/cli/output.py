"""Rendering shared by every command: the ``--json`` flag, JSON results, and errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from csm import jsonio
from csm.errors import CsmError

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(func)


def emit_json(result: Any) -> None:
    click.echo(jsonio.dumps(result))


def emit_list(items: Sequence[Any], problems: Sequence[Any] = (), **extra: Any) -> None:
    """The one shape of every list (:func:`csm.jsonio.listing`)."""
    emit_json(jsonio.listing(items, problems, **extra))


def render_error(error: CsmError, as_json: bool) -> int:
    """JSON errors go to stdout as the one envelope; human errors to stderr with their fix."""
    if as_json:
        click.echo(jsonio.dumps(jsonio.error_envelope(error)))
    else:
        click.echo(f"Error: {error.message}", err=True)
        for problem in getattr(error, "problems", ()):  # a configuration's: each key, where
            where = f"  ({problem.source})" if problem.source else ""
            click.echo(f"  {problem.path}: {problem.message}{where}", err=True)
        if error.fix:
            click.echo(f"Fix: {error.fix}", err=True)
    return error.exit_code
