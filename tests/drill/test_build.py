from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from csm.clock import SystemClock
from csm.config.loader import load
from csm.drill.build import build
from csm.errors import RefusedError
from csm.host import Host
from csm.mailqueue.exim import Exim


def digest(root: Path) -> dict[str, str]:
    """Every file's content hash, except CSM's store (it records when it was created)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "var/lib/csm" not in str(p)
    }


def test_the_same_seed_builds_the_same_host(tmp_path: Path) -> None:
    first = build(tmp_path / "h", 7, SystemClock())
    before = digest(first.root)
    again = build(tmp_path / "h", 7, SystemClock())  # rebuilt in place over the earlier drill
    assert digest(again.root) == before
    assert again.accounts == first.accounts
    assert build(tmp_path / "other", 8, SystemClock()).accounts != first.accounts


def test_the_host_has_the_cpanel_layout(tmp_path: Path) -> None:
    host = build(tmp_path / "h", 1, SystemClock())
    root = host.root
    account = host.accounts[0]
    true_domains = (root / "etc/trueuserdomains").read_text().splitlines()
    assert f"{account.domain}: {account.user}" in true_domains
    assert (root / "etc/userdomains").read_text().endswith("*: nobody\n")
    users = dict(
        line.split("=", 1)
        for line in (root / f"var/cpanel/users/{account.user}").read_text().splitlines()
    )
    assert users["USER"] == account.user and users["DNS"] == account.domain
    main = yaml.safe_load((root / f"var/cpanel/userdata/{account.user}/main").read_text())
    assert main["main_domain"] == account.domain
    box = account.mailboxes[0]
    passwd = (root / f"home/{account.user}/etc/{box.domain}/passwd").read_text()
    assert passwd.startswith(
        f"{box.local}:x:{account.uid}:{account.uid}::/home/{account.user}/mail/"
    )
    shadow = (root / f"home/{account.user}/etc/{box.domain}/shadow").read_text()
    assert shadow.startswith(f"{box.local}:$6$")
    assert (root / f"home/{account.user}/mail/{box.domain}/{box.local}/cur").is_dir()


def test_wordpress_sites_have_a_wp_config(tmp_path: Path) -> None:
    host = build(tmp_path / "h", 1, SystemClock())
    wp = [(a, s) for a in host.accounts for s in a.sites if s.wordpress]
    assert wp
    account, site = wp[0]
    config = host.root / f"home/{account.user}/{site.docroot}/wp-config.php"
    text = config.read_text()
    assert f"define( 'DB_NAME', '{site.db_name}' );" in text
    assert "$table_prefix = 'wp_';" in text
    assert config.stat().st_mode & 0o777 == 0o600


def test_the_config_points_everything_inside_the_host(tmp_path: Path) -> None:
    host = build(tmp_path / "h", 1, SystemClock())
    loaded = load(host.config_path, host.config_path.parent / "conf.d", {})
    assert loaded.config.paths.root == str(host.root)
    exim_conf = Host(host.root).path(loaded.config.mail.exim_config or "/")
    assert f"spool_directory = {host.root}/var/spool/exim" in exim_conf.read_text()


def test_refuses_a_directory_that_is_not_a_drill(tmp_path: Path) -> None:
    target = tmp_path / "customer"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(RefusedError):
        build(target, 1, SystemClock())
    assert (target / "precious.txt").read_text() == "keep me"


def test_rebuilds_over_an_earlier_drill(tmp_path: Path) -> None:
    first = build(tmp_path / "h", 1, SystemClock())
    (first.root / "stale-file").write_text("x")
    second = build(tmp_path / "h", 2, SystemClock())
    assert not (second.root / "stale-file").exists()
    assert second.seed == 2


@pytest.mark.exim
def test_exim_queues_into_the_drill_spool_and_never_delivers(tmp_path: Path, exim_bin: str) -> None:
    host = build(tmp_path / "h", 1, SystemClock())
    loaded = load(host.config_path, host.config_path.parent / "conf.d", {})
    exim = Exim(loaded.config.mail, Host(host.root))
    message = b"From: info@bluefin.test\nTo: someone@example.org\nSubject: hello\n\nbody\n"
    subprocess.run(
        exim.argv("-odq", "-f", "info@bluefin.test", "someone@example.org"),
        input=message,
        check=True,
    )
    assert exim.count() == 1
    subprocess.run(exim.argv("-qff"), check=True)  # a forced run defers; nothing leaves
    assert exim.count() == 1
    mainlog = (host.root / "var/log/exim_mainlog").read_text()
    assert "<= info@bluefin.test" in mainlog
    assert "delivery disabled on a drill host" in mainlog


def test_cli_build_reports_the_accounts(cli: Any, tmp_path: Path) -> None:
    result = cli("drill", "build", str(tmp_path / "h"), "--seed", "3", "--no-databases", "--json")
    assert result.code == 0
    data = result.json()["host"]
    assert data["seed"] == 3
    assert data["config_path"].endswith("etc/csm/csm.yaml")
    assert len(data["accounts"]) == 3
    queue = result.json()["queue"]
    assert queue["ids"]["frozen_bounces"] and queue["stolen"].endswith(
        data["accounts"][0]["domain"]
    )
