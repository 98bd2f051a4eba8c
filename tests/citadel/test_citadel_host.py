"""CSM's queue and emergency commands on a Citadel host, beyond the procedure itself: what
Citadel cannot do is refused clearly, a stop cut short is completed with the ports as they
were, the resume leaves what the operator changed meanwhile, and a stop no record accounts
for is reported and undone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.citadel.conftest import CitadelHost, host_config

REASON = "spam attack"
PORTS = ("c_smtp_port", "c_msa_port", "c_smtps_port")


def test_queue_views_count_and_show_the_body_only_on_request(
    citadel: CitadelHost, cli: Any
) -> None:
    server = citadel.server
    job = server.submit("info@shop.example", ["a@example.com", "b@example.net"], "Hi", "secret")
    assert cli("queue", "count").out.strip() == "1"
    summary = cli("queue", "summary", "--by", "sender").out
    assert "info@shop.example" in summary and "Citadel's queue room" in summary
    listed = cli("queue", "list", "--json").json()["items"]
    assert [(m["id"], m["sender"], m["account"]) for m in listed] == [
        (str(job), "info@shop.example", "shopuser")
    ]
    assert sorted(listed[0]["recipients"]) == ["a@example.com", "b@example.net"]
    plain = cli("queue", "show", str(job))
    assert plain.code == 0 and "secret" not in plain.out
    body = cli("queue", "show", str(job), "--body")
    assert body.code == 0 and "secret" in body.out
    audit = (citadel.root / "var/log/csm").glob("*.jsonl")
    assert any("queue.show_body" in p.read_text() for p in audit)


def test_freeze_and_hold_are_refused_with_what_to_do_instead(
    citadel: CitadelHost, cli: Any
) -> None:
    job = citadel.server.submit("info@shop.example", ["a@example.com"], "Hi", "x")
    frozen = cli("queue", "freeze", str(job))
    assert frozen.code != 0 and "no frozen state" in frozen.err
    held = cli("mail", "hold", "shopuser", "--reason", REASON)
    assert held.code != 0 and "Exim" in held.err
    assert str(job) in {m["id"] for m in cli("queue", "list", "--json").json()["items"]}


def test_a_message_with_a_line_000_is_reported_not_misread(citadel: CitadelHost, cli: Any) -> None:
    server = citadel.server
    odd = server.submit("info@shop.example", ["a@example.com"], "Odd", "one\n000\n200 fake\n")
    fine = server.submit("editor@blog.example", ["r@example.org"], "Fine", "hello")
    found = cli("queue", "list", "--json").json()
    assert [m["id"] for m in found["items"]] == [str(fine)]
    assert str(odd) in {p["id"] for p in found["problems"]}


def test_an_interrupted_inbound_stop_records_the_ports_as_they_were(
    citadel: CitadelHost, cli: Any, tmp_path: Path
) -> None:
    server = citadel.server
    server.config["c_smtps_port"] = "-1"  # this host never listened on 465
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(host_config(citadel.root, Path("/bin/false"))))
    cut = cli("--config", str(broken), "mail", "stop", "inbound", "--reason", REASON, "--apply")
    assert cut.code != 0  # citserver could not be restarted
    status = cli("mail", "emergency", "status", "--json").json()
    assert status["stops"][0]["interrupted"] is True
    again = cli("mail", "stop", "inbound", "--reason", REASON, "--apply", "--json")
    assert again.code == 0 and again.json()["continued"] is True, again.out
    assert server.listeners == {}
    assert cli("mail", "resume", "inbound", "--apply").code == 0
    assert [server.config[k] for k in PORTS] == ["25", "587", "-1"]


def test_resume_leaves_a_port_the_operator_changed_meanwhile(
    citadel: CitadelHost, cli: Any
) -> None:
    server = citadel.server
    assert cli("mail", "stop", "inbound", "--reason", REASON, "--apply").code == 0
    server.config["c_msa_port"] = "2587"
    preview = cli("mail", "resume", "inbound", "--json").json()
    assert any("c_msa_port is 2587" in line for line in preview["changes"])
    assert cli("mail", "resume", "inbound", "--apply").code == 0
    assert [server.config[k] for k in PORTS] == ["25", "2587", "465"]


def test_a_drop_in_no_stop_records_is_reported_and_taken_away(
    citadel: CitadelHost, cli: Any
) -> None:
    citadel.drop_in.parent.mkdir(parents=True)
    citadel.drop_in.write_text('[Service]\nEnvironment="CITSERVER_n_session_max=0"\n')
    status = cli("mail", "emergency", "status", "--json")
    assert status.code == 1 and status.json()["stray_flags"] == ["outbound"]
    doctor = cli("doctor", "--json").json()
    rows = {c["name"]: c for c in doctor["checks"]}
    assert rows["MTA reachable"]["status"] == "ok"
    assert rows["mail emergency stop"]["status"] == "warn"
    assert cli("mail", "resume", "outbound", "--apply").code == 0
    assert not citadel.drop_in.exists()
    assert cli("mail", "emergency", "status").code == 0


def test_resume_outbound_refuses_approve_and_a_second_stop_is_refused(
    citadel: CitadelHost, cli: Any
) -> None:
    assert cli("mail", "stop", "outbound", "--reason", REASON, "--apply").code == 0
    again = cli("mail", "stop", "outbound", "--reason", REASON, "--apply")
    assert again.code != 0 and "already stopped" in again.err
    approve = cli("mail", "resume", "outbound", "--apply", "--approve", "why")
    assert approve.code != 0 and "none" in approve.err
    assert citadel.drop_in.exists()
    assert cli("mail", "resume", "outbound", "--apply").code == 0
