"""Attacker-controlled input never breaks a snapshot: file names under the home (bytes that
are not UTF-8, newlines, tabs, backslashes) and wp-config.php contents.  The snapshot
completes, every manifest line is one ``key=value`` with no raw control character, the keys
keep §3.6's order, and every file is listed once, under a name that unescapes to its own."""

from __future__ import annotations

import base64
import json
import os
import re
import tarfile
import tempfile
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm import mysql
from csm.clock import FixedClock
from csm.forensic.quoting import go_unquote
from csm.forensic.snapshot import Forensics
from csm.forensic.tsv import unescape
from csm.host import Host
from csm.jsonio import dumps
from tests.conftest import MARIADB

pytestmark = pytest.mark.mariadb

NAME = st.binary(min_size=1, max_size=24).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..", b"wp-config.php")
)
NASTY = st.sampled_from([b"a\nb", b"tab\there", b"\xff\xfe", b"back\\slash", b'q"uote', b"\r"])
ORDER = [
    "account", "timestamp", "schema_count", "discovery_root", "private_paths_excluded",
    "private_top_excluded", "skipped_path", "target", "valid_target_count",
    "invalid_target_count", "dump_success_count", "dump_error_count", "admins_success_count",
    "admins_error_count", "sessions_success_count", "sessions_error_count",
    "recent_mtimes_status",
]  # fmt: skip
LINE = re.compile(
    r'[a-z_]+=(?:[^"\s]+|"(?:[^"\\]|\\.)*")(?: [a-z_]+=(?:[^"\s]+|"(?:[^"\\]|\\.)*"))*'
)


def forensics(root: Path) -> Forensics:
    creds = mysql.Credentials(MARIADB["host"], MARIADB["port"], MARIADB["user"], "", None)  # type: ignore[arg-type]
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    return Forensics(Host(root), lambda: creds, FixedClock(at))


def php(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def check_manifest(text: str) -> None:
    for line in text.splitlines():
        assert LINE.fullmatch(line), line
        assert all(unicodedata.category(ch)[0] != "C" for ch in line)
    keys = [line.partition("=")[0] for line in text.splitlines()]
    keys = ["target" if k in ("schema", "invalid_target") else k for k in keys]
    collapsed = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert [k for k in ORDER if k in collapsed] == collapsed[
        : len([k for k in ORDER if k in collapsed])
    ]
    for quoted in re.findall(r'"(?:[^"\\]|\\.)*"', text):
        go_unquote(quoted)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.sets(st.one_of(NAME, NASTY), max_size=8),
    db_name=st.one_of(
        st.text(max_size=30),
        st.from_regex(r"[A-Za-z0-9_@]{1,20}", fullmatch=True),
        NASTY.map(lambda b: b.decode("utf-8", "replace")),
    ),
    prefix=st.one_of(st.text(max_size=12), st.from_regex(r"[A-Za-z0-9_]{1,8}", fullmatch=True)),
    raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
)
def test_hostile_names_and_configs(
    tmp_path: Path, names: set[bytes], db_name: str, prefix: str, raw: bytes
) -> None:
    base = Path(tempfile.mkdtemp(dir=tmp_path))
    site = base / "host" / "home" / "victim" / "public_html"
    (site / "sub").mkdir(parents=True)
    for name in names:
        with open(os.path.join(os.fsencode(site), name), "wb") as out:
            out.write(b"<?php // dropped\n")
        with open(os.path.join(os.fsencode(site.parent), b"." + name), "wb") as out:
            out.write(b"private: a top-level dotfile")  # skipped, and named in the manifest
    config = f"<?php\ndefine('DB_NAME', '{php(db_name)}');\n$table_prefix = '{php(prefix)}';\n"
    (site / "wp-config.php").write_text(config, encoding="utf-8", errors="surrogateescape")
    (site / "sub" / "wp-config.php").write_bytes(raw)

    out = base / "snap.tar.gz"
    result = forensics(base / "host").snapshot("victim", out)

    with tarfile.open(out, "r:gz") as tar:
        found = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert list(found)[-1] == "manifest.txt"
    manifest = found["manifest.txt"].decode("utf-8")
    check_manifest(manifest)
    assert f"schema_count={result.manifest.schema_count}\n" in manifest
    assert result.manifest.schema_count == len(result.manifest.targets) <= 2
    listed = [line.split("\t") for line in found["files/recent-mtimes.tsv"].decode().splitlines()]
    assert all(len(fields) == 2 for fields in listed)
    home = b"/home/victim/public_html/"
    expected = {home + n for n in names} | {home + b"wp-config.php", home + b"sub/wp-config.php"}
    assert sorted(unescape(fields[0]) or b"" for fields in listed) == sorted(expected)
    private = r'^skipped_path=\d+ path=("(?:[^"\\]|\\.)*") reason="private-account-path"$'
    skipped = re.findall(private, manifest, re.M)
    assert {go_unquote(p) for p in skipped} == {b"/home/victim/." + n for n in names}
    shown = json.loads(dumps(result).encode("utf-8"))  # the --json result: always valid UTF-8
    b64 = {base64.b64decode(s["path_b64"]) for s in shown["manifest"]["skipped"] if s["path_b64"]}
    assert b64 == {b"/home/victim/." + n for n in names if not utf8(n)}


def utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_a_walk_out_of_time_is_an_error_and_keeps_what_it_listed(tmp_path: Path) -> None:
    site = tmp_path / "host" / "home" / "victim" / "public_html"
    site.mkdir(parents=True)
    (site / "index.php").write_text("<?php\n")
    out = tmp_path / "snap.tar.gz"
    service = replace(forensics(tmp_path / "host"), walk_timeout=-1.0)
    result = service.snapshot("victim", out)
    with tarfile.open(out, "r:gz") as tar:
        found = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert b"recent_mtimes_status=error\n" in found["manifest.txt"]
    assert b"did not finish within" in found["files/recent-mtimes.tsv.err"]
    assert "files/recent-mtimes.tsv" in found
    assert not result.complete
    assert [c.entry for c in result.failed] == ["files/recent-mtimes.tsv.err"]
