"""What every command gets: the global options, and lazy loading of config and app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csm.app import App
    from csm.config.loader import LoadedConfig


@dataclass(frozen=True, slots=True)
class CliContext:
    config_path: str | None
    config_dir: str | None
    env: Mapping[str, str]

    def load_config(self) -> LoadedConfig:
        from csm.config import loader  # noqa: PLC0415

        main = loader.config_path(self.config_path, self.env)
        return loader.load(main, loader.config_dir(self.config_dir, main, self.env), self.env)

    def app(self) -> App:
        from csm import app  # noqa: PLC0415

        return app.build(self.load_config(), self.env)
