"""What every command gets: the global options, and lazy loading of config and app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from csm.app import App
    from csm.config.loader import LoadedConfig


@dataclass(frozen=True, slots=True)
class CliContext:
    config_path: str | None
    config_dir: str | None
    env: Mapping[str, str]

    def config_paths(self) -> tuple[Path, Path]:
        """The main config file and its drop-in directory: the options, else the environment,
        else the defaults."""
        from csm.config import snapshot  # noqa: PLC0415

        main = snapshot.config_path(self.config_path, self.env)
        return main, snapshot.config_dir(self.config_dir, main, self.env)

    def load_config(self, *, optional: bool = False) -> LoadedConfig:
        """The configuration.  ``optional``: for commands that work on files alone (``csm
        check-logs``), a missing default config file means the built-in defaults, said on
        stderr; a file named by ``--config`` or ``CSM_CONFIG`` must exist."""
        from csm.config import loader, snapshot  # noqa: PLC0415

        main, dropins = self.config_paths()
        named = self.config_path is not None or bool(self.env.get("CSM_CONFIG"))
        loaded = loader.load(main, dropins, self.env, required=named or not optional)
        if loaded.builtin:
            click.echo(
                f"csm: no config file at {main}: built-in defaults apply (no domain map:"
                " findings name mailboxes and addresses; --userdomains FILE names accounts)",
                err=True,
            )
        elif self.config_path is None and self.config_dir is None:  # what `csm` alone reads
            snapshot.save(main, dropins, self.env, fast_values(loaded))
        return loaded

    def app(self, *, optional_config: bool = False) -> App:
        from csm import app  # noqa: PLC0415

        return app.build(self.load_config(optional=optional_config), self.env)


def fast_values(loaded: LoadedConfig) -> dict[str, str]:
    """The settings the fast read-only commands use (``csm.cli.entry``), resolved."""
    from csm.host import Host  # noqa: PLC0415
    from csm.mailqueue.index import NAME  # noqa: PLC0415

    config = loaded.config
    host = Host(Path(config.paths.root))
    values = {"queue_index": str(host.path(config.paths.state_dir) / NAME), "config": loaded.sha256}
    if config.mail.mta == "exim":  # other MTAs: the full command says why there is no queue
        values["spool_input"] = str(host.path(config.mail.exim_spool) / "input")
    return values
