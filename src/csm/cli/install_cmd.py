"""``csm install`` and ``csm uninstall``."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from csm.cli.context import CliContext
from csm.cli.output import emit_json, json_option

if TYPE_CHECKING:
    from csm.install.service import Installer, InstallResult

ROOT = click.option(
    "--root",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Install into the host tree under DIR instead of / (tests, images).",
)


@click.command("install", short_help="Install the systemd unit, default config, logrotate rules.")
@click.option(
    "--tls",
    is_flag=True,
    help="Also make a self-signed certificate (/etc/csm/tls) and serve the web UI and API"
    " over HTTPS (conf.d/50-tls.yaml).",
)
@ROOT
@json_option
@click.pass_obj
def install(obj: CliContext, /, tls: bool, root: Path | None, as_json: bool) -> None:
    """Install CSM on this host: the systemd unit (csm.service, Type=notify with a
    watchdog), /etc/csm/csm.yaml (0600, never overwritten), logrotate rules for CSM's own
    logs, and the state, log and quarantine directories (0700).  Running it again changes
    only what differs; an existing certificate is kept."""
    installer = _installer(obj, root)
    installer.tls = tls
    _render(installer.install(), as_json)


@click.command("uninstall", short_help="Remove the systemd unit and logrotate rules (data kept).")
@click.option("--purge", is_flag=True, help="Also remove the config, the state and the logs.")
@ROOT
@json_option
@click.pass_obj
def uninstall(obj: CliContext, /, purge: bool, root: Path | None, as_json: bool) -> None:
    """Remove what `csm install` put in place.  The config, the state store and the logs
    stay unless --purge; the quarantine always stays (it holds customer files).  Refused
    while the daemon runs."""
    from csm import control  # noqa: PLC0415
    from csm.install.service import refuse_while_running  # noqa: PLC0415

    installer = _installer(obj, root)
    socket = installer.host.path(installer.config.paths.control_socket)
    refuse_while_running(control.answers(socket))
    _render(installer.uninstall(purge=purge), as_json)


def _installer(obj: CliContext, root: Path | None) -> Installer:
    """On this host, with its configuration (the built-in defaults before there is one);
    under ``--root``, with the tree's own ``etc/csm/csm.yaml`` if it has one."""
    from csm.config import loader  # noqa: PLC0415
    from csm.host import Host  # noqa: PLC0415
    from csm.install import files  # noqa: PLC0415
    from csm.install.service import Installer  # noqa: PLC0415

    if root is None:
        app = obj.app(optional_config=True)
        return Installer(app.host, app.config, _executable())
    main = root.absolute() / files.CONFIG_PATH.lstrip("/")
    loaded = loader.load(main, main.parent / "conf.d", obj.env, required=False)
    return Installer(Host(root.absolute()), loaded.config, _executable())


def _executable() -> str:
    beside = Path(sys.executable).with_name("csm")
    return str(beside) if beside.exists() else shutil.which("csm") or "/usr/local/bin/csm"


def _render(result: InstallResult, as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    for change in result.changes:
        note = f"  ({change.note})" if change.note else ""
        click.echo(f"{change.action:<9} {change.path}{note}")
    for step in result.next_steps:
        click.echo(f"next: {step}")
