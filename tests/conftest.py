"""Shared fixtures.  The autouse fixture keeps every test away from the real /etc, /var, /home."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest

from csm.cli.main import run
from csm.clock import SystemClock
from csm.drill.build import DrillHost, build
from csm.host import Host

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
SOURCES = Path(__file__).resolve().parent.parent / "src" / "csm"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test a compiled module (scripts/compile) older than its source: Python would
    import the stale extension and the tests would pass or fail on code that is not there."""
    stale = [
        str(ext.relative_to(SOURCES.parent))
        for ext in SOURCES.rglob("*.so")
        if (source := ext.with_name(ext.name.split(".")[0] + ".py")).exists()
        and source.stat().st_mtime > ext.stat().st_mtime
    ]
    if stale:
        pytest.exit(
            f"compiled modules older than their source: {', '.join(stale)}; run `make compile`"
        )


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear CSM_* settings, point the default config at a file that does not exist, and make
    any host path under the real root (``/etc``, ``/var``, ``/home``) fail the test."""
    for name in list(os.environ):
        if name.startswith("CSM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CSM_CONFIG", str(tmp_path / "no-config" / "csm.yaml"))
    resolve = Host.path

    def guarded(self: Host, host_path: str | os.PathLike[str]) -> Path:
        if self.root.resolve() == Path("/"):
            pytest.fail(f"a test resolved the host path {host_path!r} on the real machine")
        return resolve(self, host_path)

    monkeypatch.setattr(Host, "path", guarded)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``csm ARGS…`` in-process through the real entry point; return code and output."""

    def invoke(*args: str) -> CliResult:
        code = run(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DrillHost:
    """A fresh simulated cPanel host (seed 1) for this test, selected through CSM_CONFIG."""
    host = build(tmp_path / "host", 1, SystemClock())
    monkeypatch.setenv("CSM_CONFIG", str(host.config_path))
    return host


@pytest.fixture
def drill_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DrillHost:
    """:func:`drill`, with its WordPress databases in the real MariaDB."""
    host = build(tmp_path / "host", 1, SystemClock(), with_databases=True)
    monkeypatch.setenv("CSM_CONFIG", str(host.config_path))
    return host


def backed_up(cli: Any, host: DrillHost) -> Path:
    """Take a CSM backup, as the runbook asks before incident state changes; its path."""
    out = host.root.parent / "csm-backups" / f"pre-change-{secrets.token_hex(3)}.tar.gz"
    taken = cli("backup", str(out))
    assert taken.code == 0, taken.err
    return out


def dropin(host: DrillHost, name: str, text: str) -> Path:
    path = host.config_path.parent / "conf.d" / name
    path.write_text(text)
    return path


@pytest.fixture
def exim_bin() -> str:
    found = shutil.which("exim4") or shutil.which("exim", path="/usr/sbin:/usr/bin")
    if not found:
        pytest.fail("exim4 is not installed: run `make test` (scripts/bootstrap installs it)")
    return found


@pytest.fixture
def mariadb_schema() -> Iterator[tuple[pymysql.Connection[Any], str]]:
    """A connection to the real MariaDB and a fresh schema, dropped after the test."""
    name = f"csm_test_{secrets.token_hex(4)}"
    conn = pymysql.connect(**MARIADB, autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
    conn.select_db(name)
    try:
        yield conn, name
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unix_server(tmp_path: Path) -> Any:
    """A real unix socket at a host path that answers each connection with one JSON line.

    The socket itself lives at a short path (AF_UNIX paths are limited to ~107 bytes) and the
    host path is a symlink to it.
    """

    @contextmanager
    def serve(at: Path, reply: dict[str, Any] | None) -> Iterator[None]:
        short = Path(tempfile.mkdtemp(prefix="csm-sock-")) / "s"
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(short))
        server.listen(4)
        at.parent.mkdir(parents=True, exist_ok=True)
        at.symlink_to(short)
        thread = threading.Thread(target=_answer, args=(server, reply), daemon=True)
        thread.start()
        try:
            yield
        finally:
            server.close()
            shutil.rmtree(short.parent)

    return serve


def _answer(server: socket.socket, reply: dict[str, Any] | None) -> None:
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn, contextlib.suppress(OSError):  # a client that only checks, then hangs up
            if reply is not None:
                conn.settimeout(5)
                conn.recv(65536)
                conn.sendall(json.dumps(reply).encode() + b"\n")
