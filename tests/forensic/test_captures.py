"""Capture errors become ``.err`` members and counts while the snapshot completes; invalid and
skipped configs are recorded as §3.6 says; credentials never reach an argument list or the
archive."""

from __future__ import annotations

import re
import secrets
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pymysql
import pytest

from csm import mysql
from csm.clock import FixedClock
from csm.drill.databases import HOSTS
from csm.forensic.quoting import go_unquote
from csm.forensic.snapshot import Forensics
from csm.host import Completed, Host, run
from tests.conftest import MARIADB
from tests.forensic.conftest import AT, Drilled, wordpress

pytestmark = pytest.mark.mariadb


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def manifest_of(archive: Path) -> str:
    return members(archive)["manifest.txt"].decode()


def value(manifest: str, key: str) -> str:
    return next(
        line.split("=", 1)[1] for line in manifest.splitlines() if line.startswith(key + "=")
    )


@pytest.fixture
def configs(drilled: Drilled) -> Iterator[Path]:
    """A directory for extra wp-config.php files in the victim's site, removed afterwards."""
    extra = drilled.home(drilled.victim) / "public_html" / "extra"
    extra.mkdir()
    try:
        yield extra
    finally:
        for path in sorted(extra.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        extra.rmdir()


def wp_config(directory: Path, body: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "wp-config.php").write_text(f"<?php\n{body}\n")


def test_a_schema_missing_from_mariadb_gives_err_members(
    drilled: Drilled, configs: Path, tmp_path: Path
) -> None:
    absent = f"{drilled.victim.user[:8]}_absent_{secrets.token_hex(4)}"  # its own, by prefix
    wp_config(configs / "old", f"define('DB_NAME', '{absent}');")
    out = tmp_path / "s.tar.gz"
    result = drilled.forensics().snapshot(drilled.victim.user, out)
    found, manifest = members(out), manifest_of(out)
    good = len(wordpress(drilled.victim))
    assert value(manifest, "schema_count") == str(good + 1)
    for kind in ("dump", "admins", "sessions"):
        assert value(manifest, f"{kind}_success_count") == str(good)
        assert value(manifest, f"{kind}_error_count") == "1"
    for name in ("routines.sql", "admins.tsv", "sessions.tsv"):
        assert f"schema/{absent}-{name}" not in found
        assert absent in found[f"schema/{absent}-{name}.err"].decode()
    assert "Unknown database" in found[f"schema/{absent}-routines.sql.err"].decode()
    assert not result.complete and len(result.failed) == 3
    assert value(manifest, "recent_mtimes_status") == "ok"


def test_invalid_duplicate_and_nameless_configs_are_recorded(
    drilled: Drilled, configs: Path, tmp_path: Path
) -> None:
    schema = wordpress(drilled.victim)[0].db_name
    wp_config(configs / "a", "define('DB_NAME', 'bad name\n<x>');")
    wp_config(configs / "b", "define('DB_NAME', 'zz_prefixed');\n$table_prefix = 'wp-x\t';")
    wp_config(configs / "c", "define('DB_USER', 'nobody');")
    wp_config(configs / "d", f"define('DB_NAME', '{schema}');")
    out = tmp_path / "s.tar.gz"
    drilled.forensics().snapshot(drilled.victim.user, out)
    manifest, found = manifest_of(out), members(out)
    home = f"/home/{drilled.victim.user}/public_html/extra"
    assert 'invalid_target=0 schema="bad name\\n<x>" table_prefix="wp_"\n' in manifest
    assert 'invalid_target=1 schema="zz_prefixed" table_prefix="wp-x\\t"\n' in manifest
    assert f'path="{home}/c/wp-config.php" reason="missing-db-name"\n' in manifest
    assert f'path="{home}/d/wp-config.php" reason="duplicate-schema"\n' in manifest
    assert (value(manifest, "schema_count"), value(manifest, "valid_target_count"),
            value(manifest, "invalid_target_count")) == ("3", "1", "2")  # fmt: skip
    assert "invalid-schema" in found["schema/invalid-target-0.err"].decode()
    assert "invalid-table-prefix" in found["schema/invalid-target-1.err"].decode()
    targets = [line.partition("=")[0] for line in manifest.splitlines()
               if line.startswith(("schema=", "invalid_target="))]  # fmt: skip
    assert targets == ["invalid_target", "schema", "invalid_target"]  # sorted by schema
    order = [line.partition("=")[0] for line in manifest.splitlines()]
    assert (
        order.index("skipped_path")
        < order.index("invalid_target")
        < order.index("valid_target_count")
    )
    assert all(go_unquote(q) for q in _quoted(manifest))


def _quoted(manifest: str) -> list[str]:
    return re.findall(r'"(?:[^"\\]|\\.)*"', manifest)


def test_a_missing_dump_program_falls_back_then_fails_cleanly(
    drilled: Drilled, tmp_path: Path
) -> None:
    sites = len(wordpress(drilled.victim))
    fallback = drilled.forensics(dump_programs=("/nonexistent/mariadb-dump", "mysqldump"))
    fallback.snapshot(drilled.victim.user, tmp_path / "fallback.tar.gz")
    assert value(manifest_of(tmp_path / "fallback.tar.gz"), "dump_success_count") == str(sites)

    missing = drilled.forensics(
        dump_programs=("/nonexistent/mariadb-dump", "/nonexistent/mysqldump")
    )
    result = missing.snapshot(drilled.victim.user, tmp_path / "missing.tar.gz")
    manifest, found = manifest_of(tmp_path / "missing.tar.gz"), members(tmp_path / "missing.tar.gz")
    assert (value(manifest, "dump_success_count"), value(manifest, "dump_error_count")) == (
        "0", str(sites))  # fmt: skip
    assert value(manifest, "admins_success_count") == str(sites)
    schema = wordpress(drilled.victim)[0].db_name
    assert "command not found" in found[f"schema/{schema}-routines.sql.err"].decode()
    assert [c.entry for c in result.failed] == [f"schema/{schema}-routines.sql.err"]


def test_an_unreachable_server_fails_every_database_capture(
    drilled: Drilled, tmp_path: Path, free_port: int
) -> None:
    creds = mysql.Credentials("127.0.0.1", free_port, "root", "", None)
    service = Forensics(Host(drilled.root), lambda: creds, FixedClock(AT))
    service.snapshot(drilled.victim.user, tmp_path / "down.tar.gz")
    manifest = manifest_of(tmp_path / "down.tar.gz")
    sites = str(len(wordpress(drilled.victim)))
    for kind in ("dump", "admins", "sessions"):
        assert value(manifest, f"{kind}_success_count") == "0"
        assert value(manifest, f"{kind}_error_count") == sites


@pytest.fixture
def db_user(drilled: Drilled) -> Iterator[tuple[str, str]]:
    """A MariaDB user with a password no shell or option file would take unquoted."""
    user = f"csmfx_{secrets.token_hex(4)}"
    password = f"p\"w'd\\#{secrets.token_hex(8)} x\t;"
    schema = wordpress(drilled.victim)[0].db_name
    conn = pymysql.connect(**MARIADB, autocommit=True)
    with conn.cursor() as cursor:
        for host in HOSTS:
            cursor.execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, password))
            cursor.execute(f"GRANT ALL PRIVILEGES ON `{schema}`.* TO %s@%s", (user, host))
    try:
        yield user, password
    finally:
        with conn.cursor() as cursor:
            for host in HOSTS:
                cursor.execute("DROP USER IF EXISTS %s@%s", (user, host))
        conn.close()


def test_credentials_stay_out_of_argv_and_the_archive(
    drilled: Drilled, db_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = db_user
    seen: list[Sequence[str]] = []

    def watching(
        argv: Sequence[str], *, timeout: float, stdin: bytes | None = None,
        check: bool = True, env: Mapping[str, str] | None = None,
    ) -> Completed:  # fmt: skip
        seen.append(list(argv))
        return run(argv, timeout=timeout, stdin=stdin, check=check, env=env)

    temp_before = set(Path(tempfile.gettempdir()).glob("csm-forensic-creds-*"))
    creds = mysql.Credentials("127.0.0.1", 3306, user, password, None)
    service = Forensics(Host(drilled.root, watching), lambda: creds, FixedClock(AT))
    out = tmp_path / "creds.tar.gz"
    service.snapshot(drilled.victim.user, out)
    manifest, found = manifest_of(out), members(out)
    assert value(manifest, "dump_success_count") == "1"  # the option file logged it in
    assert value(manifest, "admins_success_count") == "1"
    assert seen and all(argv[1].startswith("--defaults-extra-file=") for argv in seen)
    assert not any(password in arg for argv in seen for arg in argv)
    site_passwords = [s.db_password for s in wordpress(drilled.victim)]
    for body in (*found.values(), out.read_bytes()):
        assert password.encode() not in body
        assert not any(p.encode() in body for p in site_passwords)
    assert set(Path(tempfile.gettempdir()).glob("csm-forensic-creds-*")) == temp_before
    assert not Path(seen[0][1].partition("=")[2]).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["creds.tar.gz", "creds.tar.gz.sha256"]
