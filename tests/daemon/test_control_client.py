"""The control client: a peer that hangs up, stalls or answers garbage is "not answering"
(a typed error), never an unhandled OSError such as a broken pipe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from csm import control
from csm.errors import CsmError, ServiceUnavailableError


def test_a_peer_that_hangs_up_is_not_answering(unix_server: Any, tmp_path: Path) -> None:
    at = tmp_path / "run/control.sock"
    with unix_server(at, None):
        for _ in range(50):  # sometimes the request is still being sent (EPIPE), sometimes read
            with pytest.raises(ServiceUnavailableError):
                control.request(at, "status", {"pad": "x" * 200_000}, timeout=5)


def test_a_refusal_is_an_error_with_its_reason(unix_server: Any, tmp_path: Path) -> None:
    at = tmp_path / "run/control.sock"
    with unix_server(at, {"ok": False, "error": "nope"}), pytest.raises(CsmError, match="nope"):
        control.request(at, "status")


def test_nobody_listening_is_not_answering(tmp_path: Path) -> None:
    assert not control.answers(tmp_path / "absent.sock")
    with pytest.raises(ServiceUnavailableError):
        control.request(tmp_path / "absent.sock", "ping")
