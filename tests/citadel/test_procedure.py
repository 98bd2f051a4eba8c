"""The second procedure (spec/spam-attack-recovery-citadel.txt) on the Citadel host it was
written for, step by step as the operator types it: stop outbound (citserver restarted with
``CITSERVER_n_session_max=0``), stop inbound (SMTP ports -1), find the sender from the queue,
record the password change, move the queue to the trash, bring back one job, resume; the
status is clean and what the stop changed is as it was."""

from __future__ import annotations

from typing import Any

from tests.citadel.conftest import CitadelHost

REASON = "spam attack: a stolen mailbox"
QUEUE = "__CitadelSMTPspoolout__"


def test_the_spam_attack_procedure_on_citadel(  # noqa: PLR0915 - the procedure, in order
    citadel: CitadelHost, cli: Any
) -> None:
    server = citadel.server
    spam = [
        server.submit("info@shop.example", [f"v{i}@example.com"], f"Your parcel {i}", "click")
        for i in range(12)
    ]
    legit = server.submit("editor@blog.example", ["reader@example.org"], "Newsletter", "hello")
    everything = {str(n) for n in [*spam, legit]}
    texts = {n: server.text(n) for n in server.room(QUEUE)}
    assert {m["id"] for m in cli("queue", "list", "--json").json()["items"]} == everything

    # Stop spam from being sent: citserver restarted without outbound sessions.
    out = cli("mail", "stop", "outbound", "--reason", REASON, "--apply", "--json")
    assert out.code == 0, out.err
    assert server.environment.get("CITSERVER_n_session_max") == "0"
    assert server.session_max == 0 and server.run_queue() == []  # nothing leaves
    assert ["restart", "citadel.service"] in [c[1:] for c in citadel.systemctl_calls()]

    # Stop spam from coming in: the SMTP listeners set to -1, citserver restarted.
    inbound = cli("mail", "stop", "inbound", "--reason", REASON, "--apply", "--json")
    assert inbound.code == 0, inbound.err
    assert [server.config[k] for k in ("c_smtp_port", "c_msa_port", "c_smtps_port")] == ["-1"] * 3
    assert server.listeners == {}
    status = cli("mail", "emergency", "status", "--json")
    assert status.code == 1 and status.json()["stopped"] == ["outbound", "inbound"]

    # Analyze: the queue's sender column names the hacked mailbox.
    rows = cli("queue", "summary", "--by", "sender", "--json").json()["rows"]
    top = max(rows, key=lambda r: r["messages"])
    assert top["key"] == "info@shop.example" and top["messages"] == len(spam)
    account = cli("accounts", "map", "info@shop.example", "--json").json()["account"]
    assert account == "shopuser"
    shown = cli("queue", "show", str(spam[0]))
    assert shown.code == 0 and "envelope_from|info@shop.example" in shown.out
    assert "Your parcel 0" in shown.out and "click" not in shown.out  # no body unless asked

    # The password is changed in Citadel by hand: recorded as a deferral with its reason.
    deferred = cli("creds", "defer", account, "--reason", "mailbox password changed in WebCit")
    assert deferred.code == 0, deferred.err

    # Clearing the situation: every job into the trash room, recoverably.
    assert cli("queue", "review").code == 0
    moved = cli(
        "queue", "trash", "--all", "--apply", "--confirm",
        "--approve", "the procedure: nothing queued now is sent", "--json",
    )  # fmt: skip
    assert moved.code == 0, moved.err
    assert set(moved.json()["outcome"]["done"]) == everything
    assert server.room(QUEUE) == []
    assert sorted(server.room("CSM queue trash")) == sorted(texts)
    listed = cli("queue", "trash", "list")
    assert listed.code == 0 and all(i in listed.out for i in everything)

    # A user's mail that should be sent after all: back into the queue, both messages intact.
    restored = cli("queue", "restore", str(legit))
    assert restored.code == 0, restored.err
    back = server.room(QUEUE)
    assert len(back) == 2 and {n: server.text(n) for n in back} == {n: texts[n] for n in back}

    # Getting back to normal business: exactly what the stops changed is undone.
    assert cli("mail", "resume", "outbound", "--apply").code == 0
    assert not citadel.drop_in.exists() and server.session_max > 0
    assert cli("mail", "resume", "inbound", "--apply").code == 0
    ports = [server.config[k] for k in ("c_smtp_port", "c_msa_port", "c_smtps_port")]
    assert ports == ["25", "587", "465"]
    assert server.listeners == {"c_smtp_port": 25, "c_msa_port": 587, "c_smtps_port": 465}
    final = cli("mail", "emergency", "status", "--json")
    assert final.code == 0 and final.json()["stopped"] == [], final.out
    assert server.run_queue() == [legit]  # the restored job leaves; the spam stays in the trash
