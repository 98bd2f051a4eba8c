"""``csm mail hold|release|holds``: on cPanel through whmapi1 (the stand-in), elsewhere through
CSM's held-senders list, which the shipped ACL snippet makes the real Exim defer."""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from csm.clock import SystemClock
from csm.drill import standins
from csm.drill.build import EXIM_CONFIG, DrillHost, build
from csm.drill.mailqueue import QueuePlan, build_queue
from tests.conftest import dropin

pytestmark = pytest.mark.exim
STANDINS = standins.DIRECTORY


@pytest.fixture
def queued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[DrillHost, QueuePlan]:
    host = build(tmp_path / "host", 1, SystemClock())
    monkeypatch.setenv("CSM_CONFIG", str(host.config_path))
    return host, build_queue(host, 1)


def frozen_ids(cli: Any, account: str) -> set[str]:
    found = cli("queue", "list", "--account", account, "--frozen", "--json").json()["items"]
    return {m["id"] for m in found}


def with_hold_acl(host: DrillHost) -> None:
    """The drill's Exim with CSM's hold ACL installed, reading the host's held-senders list."""
    snippet = resources.files("csm.config").joinpath("exim/hold.acl").read_text()
    path = host.root / EXIM_CONFIG.lstrip("/")
    held = host.root / "var/lib/csm/state/mail/held-senders"
    text = path.read_text().replace("acl_check_rcpt:\n", f"acl_check_rcpt:\n{snippet}", 1)
    path.write_text(f"CSM_HELD_SENDERS = {held}\n{text}")


def test_a_plain_hold_is_refused_when_exim_does_not_read_the_list(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = queued
    dropin(host, "50-plain.yaml", "hosting:\n  panel: plain\n")
    account = plan.php_account
    refused = cli("mail", "hold", account, "--reason", "PHP mailer spamming")
    assert refused.code == 3 and "hold.acl" in refused.err
    assert "would stop nothing" in refused.err
    assert not frozen_ids(cli, account) & set(plan.ids["php_spam"])  # nothing frozen
    listed = host.root / "var/lib/csm/state/mail/held-senders"
    assert not listed.exists() or not listed.read_text().strip()
    assert cli("mail", "holds", "--json").json()["items"] == []


def test_a_plain_exim_hold_lists_the_domains_and_freezes_the_queue(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = queued
    dropin(host, "50-plain.yaml", "hosting:\n  panel: plain\n")
    with_hold_acl(host)
    account = plan.php_account
    held = cli("mail", "hold", account, "--reason", "PHP mailer spamming", "--json")
    assert held.code == 0, held.err
    assert held.json()["method"] == "acl"
    assert set(plan.ids["php_spam"]) <= frozen_ids(cli, account)
    listed = (host.root / "var/lib/csm/state/mail/held-senders").read_text().split()
    domains = next(a for a in host.accounts if a.user == account).domains
    assert {f"*@{d}" for d in domains} <= set(listed)
    assert f"{account}@server1.drill.test" in listed  # what its PHP scripts send as
    assert cli("mail", "hold", account).code == 3  # already held
    assert [h["account"] for h in cli("mail", "holds", "--json").json()["items"]] == [account]
    refused = cli("mail", "release", account)
    assert refused.code == 3 and f"csm creds rotate {account}" in refused.err
    released = cli("mail", "release", account, "--approve", "script removed, site cleaned")
    assert released.code == 0, released.err
    assert not (host.root / "var/lib/csm/state/mail/held-senders").read_text().strip()
    assert set(plan.ids["php_spam"]) <= frozen_ids(cli, account)  # thawed only when reviewed
    assert cli("mail", "holds", "--json").json()["items"] == []


def test_a_cpanel_hold_goes_through_whmapi1(
    cli: Any, queued: tuple[DrillHost, QueuePlan], monkeypatch: pytest.MonkeyPatch
) -> None:
    host, _ = queued
    monkeypatch.setenv("CSM_STANDIN_ROOT", str(host.root))
    bins = f"  uapi_bin: {STANDINS / 'uapi'}\n  whmapi1_bin: {STANDINS / 'whmapi1'}\n"
    dropin(host, "50-standins.yaml", f"cpanel:\n{bins}")
    account = host.accounts[0].user
    held = cli("mail", "hold", account, "--reason", "stolen mailbox", "--json")
    assert held.code == 0, held.err
    assert held.json()["method"] == "cpanel"
    recorded = host.root / "var/cpanel/standin/held.json"
    assert account in json.loads(recorded.read_text())
    assert cli("creds", "defer", account, "--reason", "rotating with the customer").code == 0
    assert cli("mail", "release", account).code == 0
    assert account not in json.loads(recorded.read_text())


def test_the_shipped_acl_snippet_makes_exim_defer_held_senders(
    tmp_path: Path, exim_bin: str
) -> None:
    host = build(tmp_path / "host", 1, SystemClock())
    held = tmp_path / "held-senders"
    held.write_text("*@held.test\n")
    snippet = resources.files("csm.config").joinpath("exim/hold.acl").read_text()
    text = (host.root / EXIM_CONFIG.lstrip("/")).read_text()
    config = tmp_path / "exim.conf"
    rcpt = text.replace("acl_check_rcpt:\n", f"acl_check_rcpt:\n{snippet}", 1)
    config.write_text(f"CSM_HELD_SENDERS = {held}\n{rcpt}")
    session = (
        "HELO client.example\r\nMAIL FROM:<spam@held.test>\r\nRCPT TO:<x@example.org>\r\n"
        "RSET\r\nMAIL FROM:<ok@free.test>\r\nRCPT TO:<x@example.org>\r\nQUIT\r\n"
    )
    done = subprocess.run([exim_bin, "-C", str(config), "-bh", "192.0.2.10"], input=session,
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    replies = [line for line in done.stdout.splitlines() if line[:3].isdigit()]
    assert "451 outgoing mail for held.test is held by the hosting provider" in replies
    assert replies[-2] == "250 Accepted"  # a sender that is not held is not touched
    held.unlink()  # no list (no holds yet): nothing is deferred
    done = subprocess.run([exim_bin, "-C", str(config), "-bh", "192.0.2.10"], input=session,
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert not [line for line in done.stdout.splitlines() if line.startswith("451")]


def test_doctor_checks_the_hold_acl_on_a_plain_exim_host(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, _ = queued
    dropin(host, "50-plain.yaml", "hosting:\n  panel: plain\n")

    def check() -> dict[str, Any]:
        report = cli("doctor", "--json").json()
        return next(c for c in report["checks"] if c["name"] == "mail hold ACL")

    missing = check()
    assert missing["status"] == "warn" and "hold.acl" in missing["fix"]
    with_hold_acl(host)
    assert check()["status"] == "ok"


@pytest.mark.parametrize("mta", ["none", "postfix"])
def test_the_queue_commands_refuse_another_mta(
    cli: Any, queued: tuple[DrillHost, QueuePlan], mta: str
) -> None:
    host, _ = queued
    assert cli("queue", "count").code == 0  # the fast path's snapshot, taken with Exim
    dropin(host, "50-mta.yaml", f"mail:\n  mta: {mta}\n")
    for args in (("queue", "count"), ("queue", "summary"), ("queue", "list"),
                 ("mail", "hold", host.accounts[0].user)):  # fmt: skip
        result = cli(*args)
        assert result.code == 4, (args, result.out, result.err)
        assert f"mail.mta is {mta}" in result.err
