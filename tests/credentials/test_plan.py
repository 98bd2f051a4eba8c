"""The credential plan of a simulated account, deferral, and the close guard's gate."""

from __future__ import annotations

from typing import Any

from csm.drill.build import DrillHost
from tests.conftest import backed_up


def plan(cli: Any, user: str) -> dict[str, Any]:
    result = cli("creds", "plan", user, "--json")
    assert result.code == 0, result.err
    return result.json()  # type: ignore[no-any-return]


def test_the_plan_lists_every_item_type_flagged_first(cli: Any, drill: DrillHost) -> None:
    spammer = drill.accounts[0]
    found = plan(cli, spammer.user)
    ids = [item["id"] for item in found["items"]]
    assert found["items"][0]["flagged"] and ids[0] == f"mailbox:{spammer.mailboxes[0].address}"
    kinds = {item["kind"] for item in found["items"]}
    assert {"cpanel", "ftp", "mailbox", "mysql", "secret"} <= kinds
    assert f"cpanel:{spammer.user}" in ids and f"ftp:webdev@{spammer.domain}" in ids
    assert all(item["state"] == "pending" for item in found["items"])


def test_env_secrets_are_listed_by_name_never_by_value(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[1].user
    app = drill.root / "home" / user / "public_html" / "app"
    app.mkdir()
    (app / ".env").write_text("APP_NAME=shop\nSTRIPE_SECRET=sk_live_do_not_print\nDB_PASSWORD=x\n")
    result = cli("creds", "plan", user, "--json")
    ids = [item["id"] for item in result.json()["items"]]
    assert "secret:public_html/app/.env:STRIPE_SECRET" in ids
    assert "secret:public_html/app/.env:DB_PASSWORD" in ids
    assert "secret:public_html/app/.env:APP_NAME" not in ids
    assert "sk_live" not in result.out


def test_a_deferral_needs_a_reason_and_is_recorded(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[2].user
    item = f"cpanel:{user}"
    assert cli("creds", "defer", user, item, "--reason", " ").code == 2
    assert cli("creds", "defer", user, "cpanel:someone-else", "--reason", "x").code == 1
    done = cli("creds", "defer", user, item, "--reason", "customer on holiday", "--json")
    assert done.code == 0, done.err
    states = {i["id"]: i for i in plan(cli, user)["items"]}
    assert states[item]["state"] == "deferred"
    assert states[item]["reason"] == "customer on holiday"
    assert sum(i["state"] == "pending" for i in states.values()) == len(states) - 1


def test_the_close_guard_needs_every_flagged_item(cli: Any, drill: DrillHost) -> None:
    spammer = drill.accounts[0]
    backed_up(cli, drill)
    incident = next(
        i for i in cli("incidents", "list", "--status", "active", "--json").json()["items"]
        if i["account"] == spammer.user and i["mailbox"]
    )  # fmt: skip
    cli("incidents", "review", incident["id"], "--note", "checked the logs")
    cli("creds", "defer", spammer.user, f"cpanel:{spammer.user}", "--reason", "later")
    assert unmet(cli, incident["id"]) == ["credentials", "scan"]
    mailbox = f"mailbox:{incident['mailbox']}"
    cli("creds", "defer", spammer.user, mailbox, "--reason", "rotated by the customer")
    assert unmet(cli, incident["id"]) == ["scan"]


def unmet(cli: Any, incident: str) -> list[str]:
    refused = cli("incidents", "status", incident, "resolved", "--json")
    assert refused.code == 3
    blocked = refused.json()["details"]["blocked"]
    return [u["condition"] for b in blocked for u in b["unmet"]]


def test_status_says_what_the_gate_waits_for(cli: Any, drill: DrillHost) -> None:
    spammer = drill.accounts[0]
    flagged = f"mailbox:{spammer.mailboxes[0].address}"
    status = cli("creds", "status", spammer.user, "--json").json()
    assert flagged in status["waiting"] and f"cpanel:{spammer.user}" in status["waiting"]
    assert not status["gate_met"]
    cli("creds", "defer", spammer.user, *status["waiting"], "--reason", "customer rotates")
    assert cli("creds", "status", spammer.user, "--json").json()["gate_met"]


def test_an_account_review_counts_for_its_incidents(cli: Any, drill: DrillHost) -> None:
    spammer = drill.accounts[0]
    backed_up(cli, drill)
    incident = next(
        i for i in cli("incidents", "list", "--status", "active", "--json").json()["items"]
        if i["account"] == spammer.user
    )  # fmt: skip
    assert "review" in unmet(cli, incident["id"])
    assert cli("accounts", "review", spammer.user, "--note", " ").code == 2
    done = cli("accounts", "review", spammer.user, "--note", "homes and mail checked", "--json")
    assert done.code == 0 and done.json()["account"] == spammer.user
    assert "review" not in unmet(cli, incident["id"])
