"""The real-component mail harness (tests/netns.py) does what the emergency-stop tests rely
on: a real Exim daemon in a network namespace, running CSM's shipped snippets, delivers to
the sink or to a mailbox when no stop is set, freezes outgoing mail under ``stop-outbound``,
answers 421 on every SMTP port under ``stop-inbound``, and a firewall reset shows as a refused
connection.  The flag files are created while the daemon runs: no SIGHUP is needed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.netns import (
    REMOTE_HOST,
    SMTP_PORTS,
    TEST_PASSWORD,
    TEST_USER,
    MailWorld,
    mail_world,
    namespaces_work,
)

pytestmark = pytest.mark.exim
CREDENTIALS = (TEST_USER, TEST_PASSWORD)
OUTSIDE = "someone@example.org"
LOCAL = "box@csm-test.example"


@pytest.fixture(scope="module")
def can_isolate() -> None:
    """Network namespaces are needed: fail (not skip) where they cannot be made."""
    if not namespaces_work():
        pytest.fail("cannot create a network namespace: these tests need root and iproute2")


@pytest.fixture
def world(tmp_path: Path, exim_bin: str, can_isolate: None) -> Iterator[MailWorld]:
    """A namespace with the Exim daemon (CSM's snippets included) and the outside world."""
    with mail_world(tmp_path, exim_bin=exim_bin) as built:
        yield built


def submit(world: MailWorld, subject: str) -> dict[str, Any]:
    """An authenticated submission on port 587 to an outside address; it must be accepted."""
    sent = world.ns.smtp(587, to=[OUTSIDE], auth=CREDENTIALS, subject=subject)
    assert sent["accepted"], sent
    assert sent["queue_id"], sent
    return sent


def test_without_a_stop_a_submission_reaches_the_outside_world(world: MailWorld) -> None:
    submit(world, "harness: plain submission")
    arrived = world.sink.wait_messages(1)
    assert len(arrived) == 1
    assert f"X-Sink-Envelope-To: <{OUTSIDE}>" in arrived[0]
    assert "Subject: harness: plain submission" in arrived[0]
    assert "X-CSM-Emergency" not in arrived[0]


def test_without_a_stop_inbound_mail_reaches_the_local_mailbox(world: MailWorld) -> None:
    sent = world.ns.smtp(25, sender="friend@remote.example", to=[LOCAL], subject="harness: in")
    assert sent["accepted"], sent
    assert not any(step["command"].startswith("AUTH") for step in sent["steps"])
    assert _wait(lambda: "Subject: harness: in" in world.exim.mailbox("box")), world.exim.logs()
    assert world.sink.messages() == []


def test_stop_outbound_freezes_a_submission_and_nothing_leaves(world: MailWorld) -> None:
    (world.flag_dir / "stop-outbound").touch()
    queue_id = submit(world, "harness: stopped")["queue_id"]
    listed = [line for line in world.exim.exim("-bp").splitlines() if queue_id in line]
    assert listed and "*** frozen ***" in listed[0]
    assert "X-CSM-Emergency: outbound-stop" in world.exim.exim("-Mvh", queue_id)
    assert f"{queue_id} frozen by ACL" in world.exim.log()
    world.ns.run(world.exim.exim_argv("-qf"))  # a queue run now: frozen mail is skipped
    assert world.sink.wait_messages(1, timeout=3) == []


def test_stop_outbound_leaves_mail_from_other_servers_alone(world: MailWorld) -> None:
    (world.flag_dir / "stop-outbound").touch()
    sent = world.ns.smtp(25, sender="friend@remote.example", to=[LOCAL], source=REMOTE_HOST)
    assert sent["accepted"], sent
    assert _wait(lambda: "friend@remote.example" in world.exim.mailbox("box")), world.exim.logs()
    assert "*** frozen ***" not in world.exim.exim("-bp")


def test_stop_inbound_answers_421_on_every_smtp_port(world: MailWorld) -> None:
    (world.flag_dir / "stop-inbound").touch()
    for port in SMTP_PORTS:
        greeted = world.ns.smtp(port)
        assert greeted["connected"], greeted
        assert greeted["banner_code"] == 421, (port, greeted)
        assert "stopped" in greeted["banner"]
    (world.flag_dir / "stop-inbound").unlink()
    assert world.ns.smtp(25)["banner_code"] == 220  # resumed at once, no SIGHUP


def test_a_firewall_reset_shows_as_a_refused_connection(world: MailWorld) -> None:
    nft = ["nft", "add"]
    world.ns.run([*nft, "table", "inet", "t"])
    world.ns.run([*nft, "chain", "inet", "t", "input", "{ type filter hook input priority 0; }"])
    world.ns.run([*nft, "rule", "inet", "t", "input", "tcp", "dport", "25", "reject", "with",
                  "tcp", "reset"])  # fmt: skip
    refused = world.ns.smtp(25)
    assert refused["connected"] is False
    assert refused["error"] == "refused"
    assert world.ns.smtp(587)["banner_code"] == 220  # only port 25 is closed


def test_sighup_restarts_the_daemon_on_its_ports(world: MailWorld) -> None:
    world.exim.hup()
    for port in SMTP_PORTS:
        assert world.ns.smtp(port)["banner_code"] == 220
    submit(world, "harness: after SIGHUP")
    assert len(world.sink.wait_messages(1)) == 1


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether ``condition()`` becomes true within ``timeout`` seconds (polled)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
