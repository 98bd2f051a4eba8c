"""``csm install --tls``: a self-signed pair that openssl reads back, kept on a second run,
and a daemon that then serves the API over HTTPS with it."""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from csm.drill.build import DrillHost
from tests.daemon.conftest import Daemon, wait_until


def test_install_tls_makes_a_pair_and_keeps_it(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "host"
    first = cli("install", "--root", str(root), "--tls", "--json")
    assert first.code == 0, first.err
    changes = {c["path"]: c["action"] for c in first.json()["changes"]}
    assert changes["/etc/csm/tls/csm.crt"] == "created"
    assert changes["/etc/csm/conf.d/50-tls.yaml"] == "created"
    cert, key = root / "etc/csm/tls/csm.crt", root / "etc/csm/tls/csm.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    shown = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "IP Address:127.0.0.1" in shown and "DNS:localhost" in shown
    before = cert.read_bytes()
    again = cli("install", "--root", str(root), "--tls", "--json")
    changes = {c["path"]: c["action"] for c in again.json()["changes"]}
    assert changes["/etc/csm/tls/csm.crt"] == "unchanged"
    assert cert.read_bytes() == before
    monkeypatch.setenv("CSM_CONFIG", str(root / "etc/csm/csm.yaml"))
    valid = cli("validate", "--json")
    assert valid.json()["valid"], valid.out


def test_the_daemon_serves_https_with_it(cli: Any, drill: DrillHost, tmp_path: Path) -> None:
    done = cli("install", "--root", str(drill.root), "--tls")
    assert done.code == 0, done.err
    daemon = Daemon(drill, tmp_path / "daemon.log").start()
    try:
        url = wait_until(lambda: daemon.status()["api"]["url"], what="the API address")
        assert url.startswith("https://127.0.0.1:")
        cert = str(drill.root / "etc/csm/tls/csm.crt")
        trust = ssl.create_default_context(cafile=cert)
        headers = {"authorization": f"Bearer {drill.api_tokens['read']}"}
        answer = httpx.get(url + "api/v1/status", headers=headers, verify=trust)
        assert answer.status_code == 200
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        login = httpx.get(url + "login", verify=trust)
        assert login.status_code == 200
    finally:
        daemon.kill()
    assert os.path.exists(cert)
