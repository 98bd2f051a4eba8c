"""The emergency stop against a real Exim daemon listening on its SMTP ports, in a network
namespace (tests/netns.py), with a local SMTP sink standing for the rest of the internet, and
CSM itself run inside the namespace (so its nftables table is the namespace's, never the
machine's)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.netns import SMTP_PORTS, TEST_PASSWORD, TEST_USER, MailWorld, mail_world, namespaces_work

pytestmark = pytest.mark.exim
CSM = str(Path(sys.executable).with_name("csm"))
CREDENTIALS = (TEST_USER, TEST_PASSWORD)
OUTSIDE = "someone@example.org"


@pytest.fixture
def world(tmp_path: Path, exim_bin: str) -> Iterator[MailWorld]:
    if not namespaces_work():
        pytest.fail("cannot create a network namespace: these tests need root and iproute2")
    with mail_world(tmp_path, exim_bin=exim_bin) as built:
        yield built


@pytest.fixture
def csm(world: MailWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``csm ARGS… --json`` inside the namespace, on a config for this Exim; the parsed JSON."""
    state = tmp_path / "csm"
    exim_root = world.exim.root
    config = {
        "hostname": "mail.csm-test.example",
        "paths": {
            "state_dir": str(state / "state"),
            "log_dir": str(state / "log"),
            "quarantine_dir": str(state / "quarantine"),
            "control_socket": str(state / "control.sock"),
        },
        "mail": {
            "exim_bin": exim_bin_of(world),
            "exim_config": str(world.exim.config),
            "exim_spool": str(exim_root / "spool"),
            "emergency": {"flag_dir": str(world.flag_dir)},
        },
        "hosting": {"panel": "plain"},
    }
    path = tmp_path / "csm.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("CSM_CONFIG", str(path))

    def run(*args: str, code: int = 0) -> dict[str, Any]:
        done = world.ns.run([CSM, *args, "--json"], check=False, timeout=120)
        assert done.returncode == code, (done.stdout, done.stderr)
        parsed: dict[str, Any] = json.loads(done.stdout)
        return parsed

    return run


def exim_bin_of(world: MailWorld) -> str:
    return world.exim.exim_argv()[0]


def queue(world: MailWorld) -> dict[str, bool]:
    """Every queued id, and whether it is frozen (``exim -bp``)."""
    found: dict[str, bool] = {}
    for line in world.exim.exim("-bp").splitlines():
        words = line.split()
        if len(words) >= 3 and len(words[2]) >= 16 and words[0][-1] in "mhd":
            found[words[2]] = "*** frozen ***" in line
    return found


def submit(world: MailWorld, subject: str) -> str:
    sent = world.ns.smtp(587, to=[OUTSIDE], auth=CREDENTIALS, subject=subject)
    assert sent["accepted"], sent
    return str(sent["queue_id"])


def delivered(world: MailWorld) -> set[str]:
    """The subjects the outside world received."""
    return {
        line.removeprefix("Subject: ")
        for message in world.sink.messages()
        for line in message.splitlines()
        if line.startswith("Subject: ")
    }


def test_stop_hold_everything_then_resume_releases_exactly_what_it_froze(
    world: MailWorld, csm: Any
) -> None:
    world.sink.__exit__(None, None, None)  # the outside world unreachable: mail waits queued
    waiting = [submit(world, f"queued {n}") for n in range(3)]
    world.exim.exim("-Mf", waiting[0])  # frozen by the operator before the stop
    world.sink.__enter__()
    assert queue(world) == {waiting[0]: True, waiting[1]: False, waiting[2]: False}

    stopped = csm("mail", "stop", "outbound", "--reason", "spam run", "--apply")
    assert stopped["frozen"] == 2 and stopped["already_frozen"] == 1
    assert stopped["exim_reads_flag"]
    new = submit(world, "sent during the stop")  # accepted …
    assert queue(world)[new] is True  # … and frozen
    world.ns.run(world.exim.exim_argv("-qf"))  # a forced queue run delivers nothing frozen
    time.sleep(2)
    assert delivered(world) == set()

    preview = csm("mail", "resume", "outbound")
    assert preview["adopted"] == 1 and not preview["applied"]
    assert {x["msgid"] for x in preview["left"]} == {*waiting[1:], new}  # no account: gated
    resumed = csm("mail", "resume", "outbound", "--apply", "--approve", "all checked")
    assert set(resumed["thawed"]) == {*waiting[1:], new}
    assert queue(world)[waiting[0]] is True  # frozen before the stop: still frozen
    world.ns.run(world.exim.exim_argv("-qf"))
    world.sink.wait_messages(3)
    assert delivered(world) == {"queued 1", "queued 2", "sent during the stop"}
    assert csm("mail", "emergency", "status")["stopped"] == []


def test_stop_inbound_answers_421_and_the_firewall_closes_the_ports(
    world: MailWorld, csm: Any
) -> None:
    assert all(world.ns.smtp(p, to=[])["banner_code"] == 220 for p in SMTP_PORTS)
    stopped = csm("mail", "stop", "inbound", "--reason", "spam coming in", "--apply")
    assert stopped["smtp_refused"] is True and stopped["ports"] == []
    for port in SMTP_PORTS:
        talk = world.ns.smtp(port, to=[])
        assert talk["banner_code"] == 421, talk
    status = csm("mail", "emergency", "status", code=1)
    assert status["stopped"] == ["inbound"] and status["firewall_ports"] == []
    csm("mail", "resume", "inbound", "--apply")
    assert world.ns.smtp(25, to=[])["banner_code"] == 220

    closed = csm("mail", "stop", "inbound", "--reason", "again", "--firewall", "--apply")
    assert closed["ports"] == sorted(SMTP_PORTS)
    for port in SMTP_PORTS:
        talk = world.ns.smtp(port, to=[])
        assert not talk["connected"] and talk["error"] == "refused", talk
    listed = world.ns.run(["nft", "list", "set", "inet", "csm", "smtp_stopped"]).stdout.decode()
    assert all(str(p) in listed for p in SMTP_PORTS)
    csm("mail", "resume", "inbound", "--apply")
    for port in SMTP_PORTS:
        assert world.ns.smtp(port, to=[])["banner_code"] == 220
    assert csm("mail", "emergency", "status")["firewall_ports"] == []


def test_ip_blocks_live_in_the_csm_table_with_timeouts(world: MailWorld, csm: Any) -> None:
    preview = csm("firewall", "block", "198.51.100.7", "--reason", "brute force")
    assert not preview["applied"]
    assert "csm" not in world.ns.run(["nft", "list", "tables"]).stdout.decode()
    done = csm(
        "firewall", "block", "198.51.100.0/24", "--for", "2h", "--reason", "spray", "--apply"
    )
    assert done["applied"] and done["expires_in"] == 7200
    listed = csm("firewall", "list")["items"]
    assert [(x["block"]["network"], x["in_table"]) for x in listed] == [("198.51.100.0/24", True)]
    refused = world.ns.run(
        [CSM, "firewall", "block", "127.0.0.1", "--reason", "x", "--apply"], check=False
    )
    assert refused.returncode == 3
    csm("firewall", "unblock", "198.51.100.0/24", "--apply")
    assert csm("firewall", "list")["items"] == []
    assert (
        "198.51.100.0/24"
        not in world.ns.run(["nft", "list", "table", "inet", "csm"]).stdout.decode()
    )
