"""``csm``: the entry point, the lazy command table, and the one place errors become exit codes.

Command modules are imported only when their command runs, so ``csm version`` and ``csm --help``
stay fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import click

from csm.cli.context import CliContext
from csm.cli.summaries import SUMMARIES
from csm.errors import EXIT_USAGE, CsmError, UsageError

# name -> (module, attribute).  Each command declares its own one-line help (``short_help``);
# `csm --help` shows them from :mod:`csm.cli.summaries`, generated from the commands by
# `make docs`, so that no command module is imported to list them.
COMMANDS: dict[str, tuple[str, str]] = {
    "version": ("csm.cli.version_cmd", "version"),
    "status": ("csm.cli.status_cmd", "status"),
    "doctor": ("csm.cli.doctor_cmd", "doctor"),
    "validate": ("csm.cli.config_cmd", "validate"),
    "config": ("csm.cli.config_cmd", "config"),
    "store": ("csm.cli.store_cmd", "store"),
    "backup": ("csm.cli.backup_cmd", "backup"),
    "restore": ("csm.cli.backup_cmd", "restore"),
    "forensic-snapshot": ("csm.cli.forensic_cmd", "forensic_snapshot"),
    "incidents": ("csm.cli.incidents_cmd", "incidents"),
    "check-logs": ("csm.cli.logs_cmd", "check_logs"),
    "accounts": ("csm.cli.accounts_cmd", "accounts"),
    "creds": ("csm.cli.creds_cmd", "creds"),
    "scan": ("csm.cli.scan_cmd", "scan"),
    "db": ("csm.cli.scan_cmd", "db"),
    "quarantine": ("csm.cli.quarantine_cmd", "quarantine"),
    "mail": ("csm.cli.mail_cmd", "mail"),
    "firewall": ("csm.cli.firewall_cmd", "firewall"),
    "queue": ("csm.cli.queue_cmd", "queue"),
    "drill": ("csm.cli.drill_cmd", "drill"),
    "daemon": ("csm.cli.daemon_cmd", "daemon"),
    "install": ("csm.cli.install_cmd", "install"),
    "uninstall": ("csm.cli.install_cmd", "uninstall"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command = getattr(importlib.import_module(entry[0]), entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Main config file [env CSM_CONFIG; default /etc/csm/csm.yaml].",
)
@click.option(
    "--config-dir",
    metavar="DIR",
    help="Drop-in directory [env CSM_CONFIG_DIR; default conf.d beside the config].",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _, wanted: _version(ctx, wanted),
    help="Print the version and build, and exit.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, config_dir: str | None) -> None:
    """CSM: security monitor and incident response for shared web and mail hosting servers."""
    ctx.obj = CliContext(config_path, config_dir, os.environ)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    sys.exit(run(args))


def _version(ctx: click.Context, wanted: bool) -> None:
    """``csm --version``: what ``csm version`` prints."""
    if not wanted:
        return
    from csm.version import build_info  # noqa: PLC0415

    click.echo(build_info().line())
    ctx.exit(0)


GLOBAL_OPTIONS = ("--config", "--config-dir")


def global_first(args: list[str]) -> list[str]:
    """``csm status --config X`` as ``csm --config X status``: the global options are taken
    from anywhere before a ``--`` (no command has options of the same names)."""
    front: list[str] = []
    rest: list[str] = []
    at = 0
    while at < len(args):
        arg = args[at]
        if arg == "--":
            rest += args[at:]
            break
        name = arg.partition("=")[0]
        if name in GLOBAL_OPTIONS and "=" in arg:
            front.append(arg)
        elif arg in GLOBAL_OPTIONS and at + 1 < len(args):
            front += args[at : at + 2]
            at += 1
        else:
            rest.append(arg)
        at += 1
    return front + rest


def run(args: list[str]) -> int:
    """Run the CLI and return the exit code; every error is rendered here and only here."""
    args = global_first(args)
    as_json = "--json" in args
    try:
        result = cli.main(args=args, prog_name="csm", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        return _usage_error(exc, as_json)
    except CsmError as exc:
        from csm.cli.output import render_error  # noqa: PLC0415

        return render_error(exc, as_json)
    return result if isinstance(result, int) else 0


def _usage_error(exc: click.ClickException, as_json: bool) -> int:
    if not as_json:
        exc.show()
        return exc.exit_code if exc.exit_code else EXIT_USAGE
    from csm.cli.output import render_error  # noqa: PLC0415

    render_error(UsageError(exc.format_message()), as_json=True)
    return EXIT_USAGE
