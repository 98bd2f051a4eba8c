"""The second procedure (spam-attack-recovery-citadel.txt) end to end on the drill host, step
by step as an operator types it: stop outbound, stop inbound, find the hacked sender from the
queue, rotate, move the spam to the trash, resume, and the status is clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from csm.clock import SystemClock
from csm.drill.build import build
from csm.drill.mailqueue import build_queue

pytestmark = pytest.mark.exim
REASON = "spam attack: a stolen mailbox"


def test_the_spam_attack_procedure_on_the_drill_host(  # noqa: PLR0915 - the procedure, in order
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = build(tmp_path / "host", 1, SystemClock())
    monkeypatch.setenv("CSM_CONFIG", str(host.config_path))
    plan = build_queue(host, 1)
    everything = {m["id"] for m in cli("queue", "list", "--json").json()["items"]}
    frozen_before = {m["id"] for m in cli("queue", "list", "--frozen", "--json").json()["items"]}

    # Stop spam from being sent, then from coming in.
    out = cli("mail", "stop", "outbound", "--reason", REASON, "--apply")
    assert out.code == 0, out.err
    inbound = cli("mail", "stop", "inbound", "--reason", REASON, "--apply", "--json")
    assert inbound.code == 0 and inbound.json()["smtp_refused"] is True
    status = cli("mail", "emergency", "status", "--json")
    assert status.code == 1 and status.json()["stopped"] == ["outbound", "inbound"]

    # Analyze: the outbound queue names the hacked login.
    by_auth = cli("queue", "summary", "--by", "auth", "--json").json()["rows"]
    top = max((g for g in by_auth if "@" in g["key"]), key=lambda g: g["messages"])
    assert top["key"] == plan.stolen
    account = cli("accounts", "map", plan.stolen, "--json").json()["account"]

    # Change the password, then clear the queue into the trash (recoverably).
    rotated = cli("creds", "rotate", account, f"cpanel:{account}", f"mailbox:{plan.stolen}")
    assert rotated.code == 0, rotated.err
    assert cli("queue", "review", "--account", account).code == 0
    kept_bytes = {
        i: tuple(p.read_bytes() for p in spool_files(host.root, i)) for i in plan.ids["stolen_spam"]
    }
    preview = cli("queue", "trash", "--auth", plan.stolen, "--json").json()
    assert not preview["applied"] and set(preview["ids"]) == set(plan.ids["stolen_spam"])
    moved = cli("queue", "trash", "--auth", plan.stolen, "--apply", "--confirm", "--json")
    assert moved.code == 0, moved.err
    trashed = set(moved.json()["outcome"]["done"])
    assert trashed == set(plan.ids["stolen_spam"])
    listed = cli("queue", "trash", "list")
    assert listed.code == 0 and "Subject" not in listed.out  # envelope and subject only
    assert all(i in listed.out for i in trashed)

    # Back to normal business: undo the stop.
    resumed = cli("mail", "resume", "outbound", "--apply", "--json")
    assert resumed.code == 0, resumed.err
    thawed = set(resumed.json()["thawed"])
    assert thawed and not thawed & trashed
    now_queued = cli("queue", "list", "--json").json()["items"]
    assert account in {m["account"] for m in now_queued if m["id"] in thawed}
    assert cli("mail", "resume", "inbound", "--apply").code == 0
    final = cli("mail", "emergency", "status", "--json")
    assert final.code == 0, final.out
    assert final.json()["stopped"] == [] and final.json()["firewall_ports"] == []
    still = {m["id"] for m in cli("queue", "list", "--frozen", "--json").json()["items"]}
    left = {x["msgid"] for x in resumed.json()["left"]}
    assert still == frozen_before | left  # what the stop froze and did not thaw is listed

    # Nothing lost: what is not queued is in the trash, and comes back byte for byte.
    queued = {m["id"] for m in cli("queue", "list", "--json").json()["items"]}
    assert queued | trashed == everything and not queued & trashed
    assert not any(spool_files(host.root, i)[0].exists() for i in trashed)
    assert cli("queue", "restore", *sorted(trashed)).code == 0
    restored = {i: tuple(p.read_bytes() for p in spool_files(host.root, i)) for i in trashed}
    assert restored == kept_bytes
    assert {m["id"] for m in cli("queue", "list", "--json").json()["items"]} == everything
    assert cli("mail", "emergency", "status").code == 0


def spool_files(root: Path, msgid: str) -> tuple[Path, Path]:
    """A message's ``-H`` and ``-D`` files in the drill's split spool."""
    directory = root / "var/spool/exim/input" / msgid[5]
    return directory / f"{msgid}-H", directory / f"{msgid}-D"
