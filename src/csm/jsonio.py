"""The one JSON encoder, shared by the CLI and the API.

Dataclasses become objects, enums their values, datetimes RFC 3339 UTC strings, dates
ISO 8601 dates, paths strings.
Errors use one envelope: ``{"ok": false, "error": "...", "code": "..."}``.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from csm.clock import isoformat
from csm.errors import CsmError


def to_jsonable(value: Any) -> Any:
    """Convert a result (dataclasses, enums, datetimes, paths, containers) to plain JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def dumps(value: Any, *, pretty: bool = True) -> str:
    data = to_jsonable(value)
    if pretty:
        return json.dumps(data, indent=2, ensure_ascii=False)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def listing(items: Sequence[Any], problems: Sequence[Any] = (), **extra: Any) -> dict[str, Any]:
    """The one shape of every list (CLI and API): ``{"items": [...], "count": n,
    "problems": [...]}``, plus what a list adds (a page's ``total``, ``offset``, ``limit``)."""
    return {"items": list(items), "count": len(items), "problems": list(problems), **extra}


def error_envelope(error: CsmError) -> dict[str, Any]:
    envelope: dict[str, Any] = {"ok": False, "error": error.message, "code": error.code}
    if error.fix:
        envelope["fix"] = error.fix
    if error.details:
        envelope["details"] = to_jsonable(error.details)
    problems = getattr(error, "problems", ())
    if problems:
        envelope["problems"] = [to_jsonable(p) for p in problems]
    return envelope


def name_text(raw: bytes) -> tuple[str, str]:
    """A file name's bytes as (text, base64): the name when it is UTF-8 (base64 ""); otherwise
    the text has U+FFFD for the undecodable bytes and the base64 holds the exact bytes.  The
    one encoding behind every ``path``/``path_b64`` pair CSM shows."""
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), base64.b64encode(raw).decode("ascii")


def path_fields(raw: bytes | str) -> dict[str, str]:
    """A file name as ``path``, plus ``path_b64`` when it is not valid UTF-8."""
    if isinstance(raw, str):
        return {"path": raw}
    text, encoded = name_text(raw)
    return {"path": text, "path_b64": encoded} if encoded else {"path": text}
