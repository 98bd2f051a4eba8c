"""The parser against lines the real Exim writes (Debian's exim4 with the drill's test config)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from csm.clock import SystemClock
from csm.config.loader import load
from csm.drill.build import build
from csm.host import Host
from csm.logtail.formats import exim, text
from csm.mailqueue.exim import Exim

pytestmark = pytest.mark.exim
MESSAGE = b"From: info@bluefin.test\nTo: x@example.org\nSubject: Quarterly report\n\nbody\n"


def test_exims_own_arrival_lines_parse(tmp_path: Path, exim_bin: str) -> None:
    host = build(tmp_path / "h", 1, SystemClock())
    config = load(host.config_path, host.config_path.parent / "conf.d", {}).config
    commands = Exim(config.mail, Host(host.root))
    mainlog = host.root / "var/log/exim_mainlog"
    before = mainlog.read_bytes()
    authed = commands.argv(
        "-odq", "-oMr", "esmtpa", "-oMa", "203.0.113.42", "-oMs", "mua.example.net",
        "-oMaa", "dovecot_login", "-oMai", "info@bluefin.test", "-f", "info@bluefin.test", "x@example.org",
    )  # fmt: skip
    subprocess.run(authed, input=MESSAGE, check=True)
    subprocess.run(
        commands.argv("-odq", "-f", "alice@bluefin.test", "y@example.org"),
        input=MESSAGE,
        check=True,
    )
    written = mainlog.read_bytes()[len(before) :].splitlines()
    arrivals = [
        line
        for line in (exim.parse(text.line(raw), 2026) for raw in written)
        if line and line.flag == "<="
    ]
    assert len(arrivals) == 2
    remote, local = (exim.arrival(line.rest) for line in arrivals)
    assert remote is not None and local is not None
    assert (remote.auth, remote.ip, remote.host, remote.protocol) == (
        "dovecot_login:info@bluefin.test", "203.0.113.42", "mua.example.net", "esmtpa",
    )  # fmt: skip
    assert (local.user, local.protocol, local.auth) == ("root", "local", "")
    assert all(len(line.msgid) in (16, 23) for line in arrivals)
