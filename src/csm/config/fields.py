"""Building blocks of the configuration model: strict sections and validated value types."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from csm import duration

_LISTEN = re.compile(r"^(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")


class Section(BaseModel):
    """A config section: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _absolute(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("must be an absolute path")
    return value


def _listen(value: str) -> str:
    match = _LISTEN.match(value)
    if not match or not 0 <= int(match.group(2)) < 65536:
        raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:9443 (port 0: any free port)")
    return value


def _duration(value: Any) -> Any:
    """``"15m"`` / ``"3d"`` strings, or whole seconds."""
    if isinstance(value, str):
        return duration.parse(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return value


def _duration_or_zero(value: Any) -> Any:
    """As :func:`_duration`, and ``0`` (off)."""
    return timedelta(0) if value in (0, "0") else _duration(value)


def _not_negative(value: timedelta) -> timedelta:
    if value.total_seconds() < 0:
        raise ValueError("must be 0 (off) or longer")
    return value


def _positive(value: timedelta) -> timedelta:
    if value.total_seconds() <= 0:
        raise ValueError("must be longer than 0s")
    return value


HostPath = Annotated[str, AfterValidator(_absolute)]
Port = Annotated[int, Field(ge=1, le=65535)]
Listen = Annotated[str, AfterValidator(_listen)]
Duration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_positive)]
DurationOrOff = Annotated[
    timedelta, BeforeValidator(_duration_or_zero), AfterValidator(_not_negative)
]
