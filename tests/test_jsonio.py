from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from csm import jsonio
from csm.errors import RefusedError


class Colour(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class Record:
    at: datetime
    colour: Colour
    where: Path
    tags: tuple[str, ...]


def test_one_encoder_for_records() -> None:
    record = Record(
        datetime(2026, 11, 22, 3, 0, 5, 123, tzinfo=UTC), Colour.RED, Path("/x"), ("a",)
    )
    assert json.loads(jsonio.dumps(record)) == {
        "at": "2026-11-22T03:00:05Z", "colour": "red", "where": "/x", "tags": ["a"],
    }  # fmt: skip


def test_the_error_envelope() -> None:
    error = RefusedError("no", fix="do this", details={"blocked": [{"id": "inc_1"}]})
    assert jsonio.error_envelope(error) == {
        "ok": False, "error": "no", "code": "refused", "fix": "do this",
        "details": {"blocked": [{"id": "inc_1"}]},
    }  # fmt: skip


def test_file_names_that_are_not_utf8_keep_their_bytes() -> None:
    assert jsonio.path_fields(b"/home/a/ok.php") == {"path": "/home/a/ok.php"}
    odd = jsonio.path_fields(b"/home/a/\xff.php")
    assert odd["path"] == "/home/a/\ufffd.php"
    assert odd["path_b64"] == "L2hvbWUvYS//LnBocA=="
