"""Rule packs: thresholds and patterns shipped as YAML in ``csm/config/rules/``, overridable
key by key in the configuration (maps merge, lists append, scalars replace)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, ClassVar

import yaml
from pydantic import model_validator

from csm.config.fields import Section


class RulePack(Section):
    PACK: ClassVar[str] = ""  # the shipped file under csm/config/rules/

    @model_validator(mode="before")
    @classmethod
    def _over_the_pack(cls, value: Any) -> Any:
        """Keys given in the config replace the shipped pack's one by one; lists append."""
        if not isinstance(value, dict):
            return value
        merged = dict(shipped(cls.PACK))
        for key, item in value.items():
            base = merged.get(key)
            merged[key] = base + item if isinstance(base, list) and isinstance(item, list) else item
        return merged


@cache
def shipped(pack: str) -> dict[str, Any]:
    text = resources.files("csm.config").joinpath(f"rules/{pack}").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data
