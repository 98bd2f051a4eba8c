"""Staging an archive nobody vouches for: member names that are not UTF-8 or hold a control
character are refused, and so is an archive that unpacks to more than its limit (a gzip
bomb), as soon as the limit is crossed: before the member that would cross it is written, or
while the bytes after the tar's end are read."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from csm.backup import staging
from csm.drill.build import DrillHost
from csm.errors import UnreadableInputError
from tests.backup.conftest import forged, live_tree, replacing_member

EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "40"))
UNIT = 64 << 10
BAD = "\n\r\t\x1b\x7f\x85\u202e\u2028\udcff"  # controls, a bidi override, a line separator,
GOOD = "aé-_ €"  # and a byte that is not UTF-8 (surrogate-escaped)
BOMB = "unpacks to over"


def archive(members: list[tuple[str, bytes]], trailing: int = 0) -> bytes:
    """A gzip'd tar of ``members`` with a manifest that lists them (and ``trailing`` zero bytes
    after the tar's end, inside the gzip stream)."""
    lines = ["backup_ts=2026-01-01T00:00:00Z", "schema=1"]
    lines += [f"file={json.dumps(n)} size={len(d)} sha256={hashlib.sha256(d).hexdigest()}"
              for n, d in members]  # fmt: skip
    body = "".join(f"{line}\n" for line in lines).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as tar:  # fmt: skip
        for name, data in [*members, ("manifest.txt", body)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue() + b"\0" * trailing)


def refusal(where: Path, data: bytes) -> str | None:
    """Why staging ``data`` in ``where`` was refused (None: staged, and without problems)."""
    path = where / "a.tar.gz"
    path.write_bytes(data)
    try:
        with staging.staged(path, within=where) as found:
            assert not found.problems
    except UnreadableInputError as exc:
        return exc.message
    finally:
        assert sorted(p.name for p in where.iterdir()) == ["a.tar.gz"]  # nothing left
    return None


@settings(max_examples=EXAMPLES * 3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(name=st.text(st.sampled_from(BAD + GOOD), min_size=1, max_size=8))
def test_a_name_that_is_not_plain_utf8_is_refused(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    assume(name not in (".", ".."))
    where = tmp_path_factory.mktemp("names")
    member = f"state/{name}"
    refused = refusal(where, archive([(member, b"data")]))
    if any(c in BAD for c in name):
        assert refused is not None and "not UTF-8 or holds a control character" in refused
    else:
        assert refused is None


@settings(max_examples=EXAMPLES * 2, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(sizes=st.lists(st.integers(0, 24), max_size=6), trailing=st.integers(0, 48))
def test_an_archive_that_unpacks_past_its_limit_is_refused(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int], trailing: int
) -> None:
    members = [(f"state/f{i}", b"\0" * (n * UNIT)) for i, n in enumerate(sizes)]
    data = archive(members, trailing * UNIT)
    unpacked = len(gzip.decompress(data))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(staging, "UNPACK_FLOOR", 16 * UNIT)
        limit = staging.unpack_limit(len(data))
        assume(not limit - UNIT < unpacked <= limit)  # the reader's buffer may be ahead
        refused = refusal(tmp_path_factory.mktemp("bomb"), data)
    if unpacked > limit:
        assert refused is not None and BOMB in refused
    else:
        assert refused is None


def test_a_bomb_is_refused_before_its_member_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "UNPACK_FLOOR", 1 << 20)
    data = archive([("state/bomb", b"\0" * (64 << 20)), ("/etc/escaped", b"x")])
    assert len(data) < 128 << 10  # 64 MiB in well under 1 MiB
    refused = refusal(tmp_path, data)
    assert refused is not None and BOMB in refused  # stopped there: the next member unread


def test_bytes_after_the_tar_s_end_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "UNPACK_FLOOR", 1 << 20)
    refused = refusal(tmp_path, archive([("state/f", b"x")], trailing=16 << 20))
    assert refused is not None and BOMB in refused


def test_the_limit_s_figures() -> None:
    assert staging.unpack_limit(3_000_000) == 256 << 20  # the review's 3 MB bomb: 256 MiB
    assert staging.unpack_limit(10 << 20) == 640 << 20  # 64 times a 10 MiB archive
    assert staging.unpack_limit(1 << 30) == 4 << 30  # never more than 4 GiB


def test_a_restore_of_a_member_with_a_newline_in_its_name_is_refused(
    cli: Any, drill: DrillHost, backup: Path, tmp_path: Path
) -> None:
    bad = forged(backup, tmp_path / "nl.tar.gz", replacing_member("conf.d/a\nb.yaml", b"{}\n"))
    before = live_tree(drill)
    for argv in (["backup", "verify"], ["restore"]):
        refused = cli(*argv, str(bad), "--json")
        assert refused.code == 8 and "control character" in refused.json()["error"]
    assert live_tree(drill) == before
