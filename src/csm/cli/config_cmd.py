"""``csm validate`` and ``csm config show``."""

from __future__ import annotations

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option
from csm.config import loader
from csm.config.model import to_dict


@click.command(short_help="Validate the configuration; list every error.")
@json_option
@click.pass_obj
def validate(obj: CliContext, as_json: bool) -> int:
    """Validate the config and its drop-ins.  Exit 0 when valid, 1 when not."""
    result = loader.validate(*obj.config_paths(), obj.env)
    if as_json:
        emit_json(result)
    elif result.valid:
        extra = f" (+ {len(result.dropins)} drop-in(s))" if result.dropins else ""
        click.echo(f"OK: {result.config_path}{extra} is valid")
    else:
        click.echo(f"INVALID: {result.config_path}: {len(result.problems)} problem(s)")
        for problem in result.problems:
            where = f"  [{problem.source}]" if problem.source else ""
            click.echo(f"  {problem.path}: {problem.message}{where}")
    return 0 if result.valid else 1


@click.group(short_help="Show the effective configuration.")
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@click.option("--no-redact", is_flag=True, help="Show secrets (passwords, API tokens) as they are.")
@json_option
@click.pass_obj
def show(obj: CliContext, no_redact: bool, as_json: bool) -> None:
    """Print the effective configuration (defaults + csm.yaml + conf.d + env), secrets redacted."""
    data = to_dict(obj.load_config().config, redact=not no_redact)
    if as_json:
        emit_json(data)
    else:
        import yaml  # noqa: PLC0415

        click.echo(yaml.safe_dump(data, sort_keys=False).rstrip())
