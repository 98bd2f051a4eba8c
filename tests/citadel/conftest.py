"""A Citadel host for CSM: the stand-in citserver (tests/citadel_standin.py) on its admin
socket, the stand-in systemctl that restarts it, and a plain host tree with two accounts."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.citadel_standin import CitadelStandIn
from tests.citadel_systemctl import write_systemctl

UNIT_DIR = "/etc/systemd/system"
SOCKET = "/c/citadel-admin.socket"


@dataclass
class CitadelHost:
    server: CitadelStandIn
    root: Path  # the host tree (paths.root)
    config: Path
    systemctl_log: Path

    def systemctl_calls(self) -> list[list[str]]:
        if not self.systemctl_log.exists():
            return []
        return [json.loads(line) for line in self.systemctl_log.read_text().splitlines()]

    @property
    def drop_in(self) -> Path:
        return self.root / UNIT_DIR.lstrip("/") / "citadel.service.d" / "csm-emergency.conf"


def host_config(root: Path, systemctl: Path, **citadel: Any) -> dict[str, Any]:
    return {
        "hostname": "citadel.test",
        "paths": {"root": str(root)},
        "mail": {
            "mta": "citadel",
            "citadel": {
                "socket": SOCKET,
                "unit_dir": UNIT_DIR,
                "systemctl_bin": str(systemctl),
                **citadel,
            },
        },
        "hosting": {"panel": "plain"},
        "firewall": {"nft_bin": str(root / "no-nft")},  # the machine's nftables stay untouched
    }


@pytest.fixture
def citadel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CitadelHost]:
    root = Path(tempfile.mkdtemp(prefix="csm-cit-", dir="/tmp"))  # short: socket paths
    try:
        etc = root / "etc"
        etc.mkdir()
        (etc / "passwd").write_text(
            "root:x:0:0:root:/root:/bin/bash\n"
            "shopuser:x:1001:1001::/home/shopuser:/bin/bash\n"
            "blog:x:1002:1002::/home/blog:/bin/bash\n"
        )
        (etc / "userdomains").write_text("shop.example: shopuser\nblog.example: blog\n")
        unit_dir = root / UNIT_DIR.lstrip("/")
        (root / "c").mkdir()
        with CitadelStandIn(root / "c", unit_dir=unit_dir) as server:
            log = tmp_path / "systemctl.log"
            systemctl = write_systemctl(tmp_path / "systemctl", server.control_socket, log)
            config = tmp_path / "csm.yaml"
            config.write_text(yaml.safe_dump(host_config(root, systemctl)))
            monkeypatch.setenv("CSM_CONFIG", str(config))
            yield CitadelHost(server, root, config, log)
    finally:
        shutil.rmtree(root, ignore_errors=True)
