"""Load ``csm.yaml``, merge ``conf.d/*.yaml`` drop-ins and ``CSM_*`` overrides, validate.

Merge rules (lexical order of drop-ins): mappings merge key by key, lists append, scalars
replace.  Every problem is reported with its dotted key path and the file that set it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from csm.config.model import Config
from csm.config.snapshot import ENV_PREFIX
from csm.errors import ConfigError, ConfigProblem

ENV_NESTING = "__"


@dataclass(frozen=True, slots=True)
class Source:
    """One layer of configuration: where it came from and the data it holds."""

    name: str
    data: Mapping[str, Any]
    lines: Mapping[tuple[str, ...], int] = field(default_factory=dict)  # key path -> line


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    config: Config
    path: Path
    dropins: tuple[Path, ...]
    env_overrides: tuple[str, ...]
    sha256: str
    dropin_dir: Path  # where the drop-ins are read from (whether or not it exists)
    builtin: bool = False  # no config file: the built-in defaults (and drop-ins, CSM_*) apply


def load(
    main: Path, dropin_dir: Path, env: Mapping[str, str], *, required: bool = True
) -> LoadedConfig:
    """Read, merge and validate; raise :class:`ConfigError` listing every problem.  A missing
    ``main`` is an error unless not ``required`` (the built-in defaults then apply)."""
    dropins = tuple(sorted(dropin_dir.glob("*.yaml"))) if dropin_dir.is_dir() else ()
    builtin = not required and not main.exists()
    sources = [_read(main, required=required)] + [_read(path) for path in dropins]
    sources += _env_sources(env)
    merged: dict[str, Any] = {}
    for source in sources:
        merged = merge(merged, source.data)
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        problems = tuple(_problem(error, sources) for error in exc.errors())
        raise _invalid(main, problems) from None
    overrides = tuple(s.name for s in sources if s.name.startswith(ENV_PREFIX))
    return LoadedConfig(config, main, dropins, overrides, _digest(merged), dropin_dir, builtin)


@dataclass(frozen=True, slots=True)
class Validation:
    """The outcome of ``csm validate``: valid, or every problem with its key path."""

    valid: bool
    config_path: Path
    dropins: tuple[Path, ...]
    problems: tuple[ConfigProblem, ...]


def validate(main: Path, dropin_dir: Path, env: Mapping[str, str]) -> Validation:
    try:
        loaded = load(main, dropin_dir, env)
    except ConfigError as exc:
        problems = exc.problems or (ConfigProblem("(file)", exc.message, str(main)),)
        return Validation(False, main, (), problems)
    return Validation(True, main, loaded.dropins, ())


def merge(base: Mapping[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """Maps merge recursively, lists append, anything else replaces."""
    out = dict(base)
    for key, value in layer.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = merge(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            out[key] = old + value
        else:
            out[key] = value
    return out


def _read(path: Path, *, required: bool = False) -> Source:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(
                f"config file not found: {path}",
                fix=f"create {path}, or pass --config / set CSM_CONFIG to the config file",
            ) from None
        return Source(str(path), {})
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    return Source(str(path), _parse(path, text), _key_lines(text))


def _parse(path: Path, text: str) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise _invalid(path, (ConfigProblem("(yaml)", f"{where}: {problem}", str(path)),)) from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        problem = ConfigProblem(
            "(top level)", "the file must hold a mapping of settings", str(path)
        )
        raise _invalid(path, (problem,))
    return data


def _env_sources(env: Mapping[str, str]) -> list[Source]:
    """``CSM_MAIL__EXIM_BIN=/x`` sets ``mail.exim_bin``; values are read as YAML scalars."""
    sources = []
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or ENV_NESTING not in name:
            continue
        keys = name[len(ENV_PREFIX) :].lower().split(ENV_NESTING)
        value: Any = _env_value(env[name])
        for key in reversed(keys):
            value = {key: value}
        sources.append(Source(name, value))
    return sources


def _env_value(raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def _problem(error: Any, sources: Sequence[Source]) -> ConfigProblem:
    loc = tuple(error["loc"])
    message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
    return ConfigProblem(dotted(loc), message, _origin(loc, sources))


def dotted(loc: Sequence[int | str]) -> str:
    """``("api", "tokens", 0, "scope")`` → ``api.tokens[0].scope``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _origin(loc: Sequence[int | str], sources: Sequence[Source]) -> str | None:
    """The last source that sets the key at ``loc`` (list indices are not followed), as
    ``file:line`` when the line is known."""
    keys = [part for part in loc if isinstance(part, str)]
    for source in reversed(sources):
        node: Any = source.data
        for key in keys:
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
        else:
            line = source.lines.get(tuple(keys))
            return f"{source.name}:{line}" if line else source.name
    return None


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The line of every mapping key in a YAML text, by its key path."""
    found: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return found
    pending: list[tuple[tuple[str, ...], Any]] = [((), root)]
    while pending:
        path, node = pending.pop()
        if not isinstance(node, yaml.MappingNode):
            continue
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                here = (*path, str(key.value))
                found[here] = key.start_mark.line + 1
                pending.append((here, value))
    return found


def _invalid(path: Path, problems: tuple[ConfigProblem, ...]) -> ConfigError:
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    return ConfigError(
        f"invalid configuration {path}: {count} {noun}",
        problems=problems,
        fix="correct the listed keys, then run `csm validate`",
    )


def _digest(merged: Mapping[str, Any]) -> str:
    canonical = json.dumps(merged, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def environ() -> Mapping[str, str]:
    """The process environment; read by front ends only, never at import time."""
    return os.environ
