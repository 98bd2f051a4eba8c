"""With the daemon running, the state-changing commands run in it (the store has one writer),
with the same results and errors as alone; a new password still reaches the operator before
it is set, and a client gone before confirming one changes nothing."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from csm import passwords
from csm.drill.build import DrillHost
from csm.drill.incidents import WEBSHELL
from csm.operations.base import COMMAND
from tests.conftest import dropin
from tests.credentials.test_rotate import shadow_hash
from tests.daemon.conftest import Daemon, store, wait_until


def plain(host: DrillHost) -> None:
    dropin(host, "50-plain.yaml", "hosting:\n  panel: plain\n")


def ran(daemon: Daemon, name: str) -> list[dict[str, Any]]:
    """The daemon's log entries for operation ``name``."""
    entries = [json.loads(line) for line in daemon.log.read_text().splitlines()]
    return [e for e in entries if e.get("msgid") == f"operation.{name}"]


def test_state_changes_run_in_the_daemon_as_the_operator(
    cli: Any, daemon: Daemon, host: DrillHost, tmp_path: Path
) -> None:
    daemon.start()
    user = host.accounts[1].user
    real = host.root / "home" / user / WEBSHELL
    content = real.read_bytes()
    put = cli("quarantine", f"/home/{user}/{WEBSHELL}", "--reason", "webshell", "--json")
    assert put.code == 0, put.err
    assert not real.exists()
    back = cli("quarantine", "restore", put.json()["id"], "--json")
    assert back.code == 0, back.err
    assert real.read_bytes() == content
    assert cli("quarantine", "restore", put.json()["id"]).code == 3  # the same refusal
    reviewed = cli("accounts", "review", user, "--note", "checked the files", "--json")
    assert reviewed.code == 0, reviewed.err
    scanned = cli("scan", user, "--checks", "files", "--json")
    assert scanned.code == 0, scanned.err
    assert scanned.json()["account"] == user
    day = tmp_path / "mainlog.day"
    stored = cli("check-logs", str(day), "--store", "--json")
    assert stored.code == 0, stored.err
    again = cli("check-logs", str(day), "--store", "--json").json()  # idempotent
    assert again["findings"] == stored.json()["findings"]
    for name in ("quarantine.put", "quarantine.restore", "accounts.review", "scan.accounts"):
        done = ran(daemon, name)
        assert done and done[0]["who"].startswith("cli:") and done[0]["uid"] == 0, name
    assert len(ran(daemon, "logs.check")) == 2
    assert ran(daemon, "quarantine.restore")[-1]["level"] == "warning"  # the refusal, logged
    assert daemon.stop() == 0


def test_a_password_shown_through_the_daemon_is_the_one_set(
    cli: Any, daemon: Daemon, host: DrillHost
) -> None:
    plain(host)
    daemon.start()
    account = host.accounts[0]
    box = account.mailboxes[0]
    item = f"mailbox:{box.address}"
    result = cli("creds", "rotate", account.user, item)
    assert result.code == 0, result.err
    head, _, rest = result.out.partition(item)
    assert "New passwords" in head
    password = rest.split()[0]
    assert passwords.sha512_check(password, shadow_hash(host, account, box.address))
    assert f"  {item}: ok" in result.err  # progress, told by the daemon
    assert ran(daemon, "creds.rotate")
    assert password not in daemon.log.read_text()


def test_a_client_gone_before_confirming_a_password_changes_nothing(
    daemon: Daemon, host: DrillHost
) -> None:
    plain(host)
    daemon.start()
    account = host.accounts[0]
    items = [f"mailbox:{b.address}" for b in account.mailboxes]
    before = {b.address: shadow_hash(host, account, b.address) for b in account.mailboxes}
    request = {
        "name": "creds.rotate",
        "request": {"account": account.user, "items": items, "show": True},
        "who": "cli:test",
        "state_dir": str(host.root / "var/lib/csm/state"),
    }
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(str(daemon.socket))
        sock.sendall(json.dumps({"cmd": COMMAND, "args": request}).encode() + b"\n")
        first = json.loads(sock.makefile("rb").readline())
        assert first["event"] == "secret" and first["confirm"] is True
    done = wait_until(lambda: ran(daemon, "creds.rotate"), what="the rotation to end")
    assert done[0]["who"] == "cli:test"
    after = {b.address: shadow_hash(host, account, b.address) for b in account.mailboxes}
    assert after == before
    with store(host) as conn:
        assert not conn.execute("SELECT * FROM credential_events").fetchall()
