"""``csm mail stop|resume`` and ``csm mail emergency status`` on the drill host, with the real
Exim (the drill's configuration carries the shipped snippets, as an installed host would)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from csm.clock import SystemClock
from csm.drill.build import EXIM_CONFIG, DrillHost, build
from csm.drill.mailqueue import QueuePlan, build_queue

pytestmark = pytest.mark.exim
REASON = "spam from a stolen mailbox"


@pytest.fixture
def queued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[DrillHost, QueuePlan]:
    host = build(tmp_path / "host", 1, SystemClock())
    monkeypatch.setenv("CSM_CONFIG", str(host.config_path))
    return host, build_queue(host, 1)


def exim(host: DrillHost, *args: str, stdin: str | None = None) -> str:
    argv = [host.exim_bin, "-C", str(host.root / EXIM_CONFIG.lstrip("/")), *args]
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def frozen(cli: Any) -> set[str]:
    return {m["id"] for m in cli("queue", "list", "--frozen", "--json").json()["items"]}


def queued_ids(cli: Any) -> set[str]:
    return {m["id"] for m in cli("queue", "list", "--json").json()["items"]}


def flag(host: DrillHost, direction: str) -> Path:
    return host.root / f"var/lib/csm/mail/stop-{direction}"


def submit(host: DrillHost, sender: str) -> str:
    """A local submission (PHP's sendmail would do the same): its new queue id."""
    before = set(exim(host, "-bp").split())
    exim(host, "-odq", "-f", sender, "someone@example.org", stdin="Subject: hi\n\nhello\n")
    new = [w for w in exim(host, "-bp").split() if w not in before and len(w) == 16]
    assert len(new) == 1, new
    return new[0]


def test_a_preview_changes_nothing(cli: Any, queued: tuple[DrillHost, QueuePlan]) -> None:
    host, plan = queued
    before = frozen(cli)
    shown = cli("mail", "stop", "outbound", "--json")
    assert shown.code == 0, shown.err
    preview = shown.json()
    assert not preview["applied"] and preview["exim_reads_flag"]
    assert preview["to_freeze"] == plan.total - len(before)
    assert cli("mail", "stop", "inbound").code == 0
    assert frozen(cli) == before
    assert not flag(host, "outbound").exists() and not flag(host, "inbound").exists()
    assert cli("mail", "emergency", "status").code == 0


def test_stop_outbound_freezes_and_records_exactly_the_unfrozen_then_freezes_new_mail(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, _ = queued
    before = frozen(cli)
    unfrozen = queued_ids(cli) - before
    assert cli("mail", "stop", "outbound", "--apply").code == 2  # a stop needs a reason
    done = cli("mail", "stop", "outbound", "--reason", REASON, "--apply", "--json")
    assert done.code == 0, done.err
    result = done.json()
    assert result["frozen"] == len(unfrozen) and result["already_frozen"] == len(before)
    assert frozen(cli) == queued_ids(cli)  # nothing queued can leave
    assert json.loads(flag(host, "outbound").read_text())["stop"] == result["stop"]["id"]
    assert flag(host, "outbound").stat().st_mode & 0o777 == 0o644  # Exim's user reads it
    again = cli("mail", "stop", "outbound", "--reason", REASON, "--apply")
    assert again.code == 3 and "already stopped" in again.err
    new = submit(host, f"office@{host.accounts[1].domain}")
    assert new in frozen(cli)  # accepted, frozen by the ACL
    shown = cli("queue", "show", new, "--json").json()
    assert {"name": "X-CSM-Emergency", "value": "outbound-stop", "flag": " "} in shown["message"][
        "headers"
    ]
    status = cli("mail", "emergency", "status", "--json")
    assert status.code == 1
    state = status.json()
    assert state["stopped"] == ["outbound"]
    assert state["stops"][0]["messages"] == {"frozen": len(unfrozen)}
    audit = cli("incidents", "list", "--json").json()["items"]
    noted = set(result["incidents"])
    assert noted and noted <= {
        i["id"] for i in audit if i["kind"] in {"mailbox_takeover", "web_account_compromise"}
    }


def test_resume_thaws_exactly_the_recorded_ids_through_the_credentials_gate(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, _ = queued
    before = frozen(cli)  # frozen bounces, frozen before the stop: they stay frozen
    assert cli("mail", "stop", "outbound", "--reason", REASON, "--apply").code == 0
    recorded = frozen(cli) - before
    new = submit(host, f"office@{host.accounts[1].domain}")
    preview = cli("mail", "resume", "outbound", "--json").json()
    assert not preview["applied"] and preview["adopted"] == 1
    left = {x["msgid"] for x in preview["left"]}
    assert set(preview["thawed"]) | left == recorded | {new}
    assert frozen(cli) == recorded | before | {new}  # the preview changed nothing
    resumed = cli("mail", "resume", "outbound", "--apply", "--json")
    assert resumed.code == 0, resumed.err
    assert not flag(host, "outbound").exists()
    assert frozen(cli) == before | left  # exactly the recorded ids that pass were thawed
    assert cli("mail", "emergency", "status").code == 0  # mail flows; some stay frozen
    status = cli("mail", "emergency", "status", "--json").json()
    assert status["stops"][0]["messages"]["left"] == len(left)
    # After the credentials are handled, running the resume again thaws the rest.
    for account in {x["account"] for x in preview["left"] if x["account"]}:
        deferred = cli("creds", "defer", account, "--reason", "the customer rotates today")
        assert deferred.code == 0, deferred.err
    again = cli("mail", "resume", "outbound", "--apply", "--json").json()
    unknown = {x["msgid"] for x in preview["left"] if not x["account"]}
    assert frozen(cli) == before | unknown  # no account, no gate: only --approve thaws those
    assert set(again["thawed"]) == left - unknown
    approved = cli(
        "mail", "resume", "outbound", "--apply", "--approve", "bounces checked", "--json"
    )
    assert set(approved.json()["thawed"]) == unknown and frozen(cli) == before


def test_trashed_messages_are_never_released_by_the_resume(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = queued
    assert cli("mail", "stop", "outbound", "--reason", REASON, "--apply").code == 0
    spam = set(plan.ids["stolen_spam"])
    account = host.accounts[0].user
    assert cli("creds", "defer", account, "--reason", "customer is rotating").code == 0
    assert cli("queue", "review", "--account", account).code == 0
    moved = cli("queue", "trash", "--auth", plan.stolen, "--apply", "--confirm", "--json")
    assert moved.code == 0, moved.err
    trashed = set(moved.json()["outcome"]["done"])
    assert trashed and trashed <= spam
    one = sorted(trashed)[0]
    assert cli("queue", "restore", one).code == 0  # back in the queue, still frozen
    assert one in frozen(cli)
    resumed = cli("mail", "resume", "outbound", "--apply", "--approve", "all clear", "--json")
    assert resumed.json()["trashed"] == len(trashed)
    assert one not in resumed.json()["thawed"] and one in frozen(cli)


def test_stop_and_resume_inbound_answer_421_then_normally(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, _ = queued
    probe = "EHLO client.example\r\nQUIT\r\n"
    assert "421" not in exim(host, "-bh", "192.0.2.9", stdin=probe)
    done = cli("mail", "stop", "inbound", "--reason", "spam runs in", "--apply", "--json")
    assert done.code == 0, done.err
    assert done.json()["smtp_refused"] is True
    replies = [line for line in exim(host, "-bh", "192.0.2.9", stdin=probe).splitlines()]
    assert "421 mail service stopped by the hosting provider, try again later" in replies
    assert cli("mail", "resume", "inbound").code == 0  # a preview
    assert flag(host, "inbound").exists()
    assert cli("mail", "resume", "inbound", "--apply").code == 0
    assert "421" not in exim(host, "-bh", "192.0.2.9", stdin=probe)
    gone = cli("mail", "resume", "inbound", "--apply")
    assert gone.code == 1 and "not stopped" in gone.err


def test_a_flag_no_stop_records_is_reported_and_taken_away(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, _ = queued
    flag(host, "outbound").parent.mkdir(parents=True, exist_ok=True)
    flag(host, "outbound").write_text("left by hand\n")
    status = cli("mail", "emergency", "status", "--json")
    assert status.code == 1 and status.json()["stray_flags"] == ["outbound"]
    assert cli("mail", "resume", "outbound", "--apply").code == 0
    assert not flag(host, "outbound").exists()
    assert cli("mail", "emergency", "status").code == 0


def test_a_stop_without_the_snippets_warns_and_still_freezes_the_queue(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, _ = queued
    config = host.root / EXIM_CONFIG.lstrip("/")
    lines = config.read_text().splitlines()
    config.write_text("\n".join(x for x in lines if "emergency-outbound" not in x) + "\n")
    done = cli("mail", "stop", "outbound", "--reason", REASON, "--apply", "--json")
    assert done.code == 0
    result = done.json()
    assert not result["exim_reads_flag"] and "new submissions" in result["warnings"][0]
    assert frozen(cli) == queued_ids(cli)
    status = cli("mail", "emergency", "status", "--json").json()
    assert any("acl_smtp_data" in m for m in status["missing"])


def test_the_human_output_says_what_happened_and_how_to_undo_it(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    shown = cli("mail", "stop", "outbound")
    assert "preview: nothing changed" in shown.out and "--apply" in shown.out
    done = cli("mail", "stop", "outbound", "--reason", REASON, "--apply")
    assert "undo: csm mail resume outbound --apply" in done.out
    status = cli("mail", "emergency", "status")
    assert "outbound STOPPED since" in status.out and REASON in status.out
    assert "next: csm mail resume outbound --apply" in status.out


def test_the_trash_keeps_bodies_private_and_audits_each_view(
    cli: Any, queued: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = queued
    account = cli("accounts", "map", plan.stolen, "--json").json()["account"]
    assert cli("queue", "review", "--account", account).code == 0
    unapproved = cli("queue", "trash", "--auth", plan.stolen, "--apply", "--confirm")
    assert unapproved.code == 3 and "not rotated or deferred" in unapproved.err
    with sqlite3.connect(host.root / "var/lib/csm/state/csm.db") as conn:
        decided = conn.execute("SELECT count(*) FROM queue_decisions").fetchone()[0]
    assert decided == 0  # refused before anything was recorded
    assert cli("queue", "trash", "--auth", plan.stolen, "--apply").code == 2  # needs --confirm
    moved = cli(
        "queue", "trash", "--auth", plan.stolen, "--limit", "5", "--apply", "--confirm",
        "--approve", "stolen mailbox, spam only", "--json",
    )  # fmt: skip
    assert moved.code == 0, moved.err
    result = moved.json()
    assert len(result["outcome"]["done"]) == 5 and result["over_limit"] == 115
    one = result["outcome"]["done"][0]
    shown = cli("queue", "trash", "show", one)
    assert shown.code == 0 and "--- body" not in shown.out and "Subject:" in shown.out
    body = cli("queue", "trash", "show", one, "--body")
    assert "--- body" in body.out
    with sqlite3.connect(host.root / "var/lib/csm/state/csm.db") as conn:
        views = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = ? AND target = ?",
            ("queue.quarantine_show_body", one),
        ).fetchone()[0]
    assert views == 1  # the body view, and only it, is recorded
    assert cli("queue", "restore", one).code == 0
