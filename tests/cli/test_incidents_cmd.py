"""The runbook's incident commands, exactly as written, against the simulated host."""

from __future__ import annotations

import json
from typing import Any

from csm.clock import SystemClock
from csm.drill.build import DrillHost
from csm.scan import repo
from csm.store.db import Store
from tests.conftest import backed_up, dropin

RUNBOOK_PREVIEW_WEB = (
    "incidents bulk-status --older-than 72h --status active"
    " --kind web_account_compromise --limit 20"
)
RUNBOOK_PREVIEW_MAIL = (
    "incidents bulk-status --older-than 24h --status active --kind mailbox_takeover --limit 20"
)
RUNBOOK_APPLY = [
    "incidents", "bulk-status", "--older-than", "72h", "--status", "active", "--kind",
    "web_account_compromise", "--limit", "100", "--apply", "--confirm", "--details",
    "operator cleanup after review",
]  # fmt: skip


def by_kind(cli: Any) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for item in cli("incidents", "list", "--json").json()["items"]:
        found.setdefault(item["kind"], []).append(item)
    return found


def test_list_open_all_as_in_runbook_step_4(cli: Any, drill: DrillHost) -> None:
    result = cli(*["incidents", "list", "--status", "open", "--all"])
    assert result.code == 0
    assert "mailbox_takeover" in result.out and "web_account_compromise" in result.out
    page = cli(*["incidents", "list", "--status", "open", "--all", "--json"]).json()
    assert set(page) == {"items", "count", "problems", "total", "offset", "limit", "status"}
    assert page["limit"] is None and page["total"] == len(page["items"]) == 6
    updated = [item["updated_at"] for item in page["items"]]
    assert updated == sorted(updated, reverse=True)


def test_list_filters_and_pages(cli: Any, drill: DrillHost) -> None:
    only = cli("incidents", "list", "--kind", "mailbox_takeover", "--json").json()
    assert {i["kind"] for i in only["items"]} == {"mailbox_takeover"}
    first = cli("incidents", "list", "--limit", "2", "--json").json()
    second = cli("incidents", "list", "--limit", "2", "--offset", "2", "--json").json()
    assert first["total"] == 6 and len(first["items"]) == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    assert cli("incidents", "list", "--status", "resolved", "--json").json()["total"] == 0


def test_show_gives_the_timeline_and_unknown_ids_exit_1(cli: Any, drill: DrillHost) -> None:
    incident = by_kind(cli)["mailbox_takeover"][0]
    shown = cli("incidents", "show", incident["id"], "--json").json()
    assert shown["incident"]["id"] == incident["id"]
    assert shown["timeline"][0]["kind"] == "finding"
    assert "timeline" in cli("incidents", "show", incident["id"]).out
    lower = cli("incidents", "list", "--severity", "critical", "--json").json()["items"]
    assert lower and all(i["severity"] == "CRITICAL" for i in lower)
    conditions = [u["condition"] for u in shown["closing"]["unmet"]]
    assert shown["closing"]["allowed"] is False
    assert conditions == ["review", "credentials", "scan", "backup"]
    text = cli("incidents", "show", incident["id"]).out
    assert "to resolve" in text and f"run: csm creds rotate {incident['account']}" in text
    missing = cli("incidents", "show", "inc_000000000000", "--json")
    assert missing.code == 1
    assert missing.json()["error"].startswith("incident: not found")


def test_runbook_step_7_previews_change_nothing(cli: Any, drill: DrillHost) -> None:
    before = cli("incidents", "list", "--json").json()
    for command in (RUNBOOK_PREVIEW_WEB, RUNBOOK_PREVIEW_MAIL):
        result = cli(*command.split())
        assert result.code == 0
        assert "DRY RUN" in result.out
    web = cli(*RUNBOOK_PREVIEW_WEB.split(), "--json").json()
    assert web["dry_run"] is True and web["matched"] == 2 and web["updated"] == 0
    mail = cli(*RUNBOOK_PREVIEW_MAIL.split(), "--json").json()
    assert mail["matched"] == 1  # the 30-hour-old spam incident, not the 1-hour-old leak
    assert cli("incidents", "list", "--json").json() == before


def complete_the_guard(drill: DrillHost, account: str, incident_id: str, cli: Any) -> None:
    """Review, every credential deferred (``csm creds defer``), then a clean scan recorded as
    the scans do."""
    assert cli("incidents", "review", incident_id, "--note", "uploads cleaned").code == 0
    assert cli("creds", "defer", account, "--reason", "rotated by the provider").code == 0
    store = Store.open(drill.root / "var/lib/csm/state", clock=SystemClock())
    now = SystemClock().now()
    with store.transaction() as conn:
        repo.add_scan_result(conn, repo.ScanRecord(account, now, now, complete=True, clean=True))
    store.close()


def test_runbook_apply_refuses_unreviewed_accounts_and_changes_the_rest(
    cli: Any, drill: DrillHost
) -> None:
    web = sorted(by_kind(cli)["web_account_compromise"], key=lambda i: i["updated_at"])
    ready, unready = web[0], web[1]
    complete_the_guard(drill, ready["account"], ready["id"], cli)
    backed_up(cli, drill)  # the runbook's step 2 comes first
    result = cli(*RUNBOOK_APPLY, "--json")
    assert result.code == 0
    reply = result.json()
    assert (reply["dry_run"], reply["matched"], reply["updated"], reply["blocked"]) == (
        False,
        2,
        1,
        1,
    )
    items = {i["id"]: i for i in reply["items"]}
    assert items[ready["id"]]["result"] == "changed"
    assert items[unready["id"]]["result"] == "blocked"
    assert {u["condition"] for u in items[unready["id"]]["unmet"]} == {
        "review",
        "credentials",
        "scan",
    }
    shown = cli("incidents", "show", ready["id"], "--json").json()
    assert shown["incident"]["status"] == "resolved"
    assert shown["actions"][-1]["details"] == "open -> resolved: operator cleanup after review"
    assert cli("incidents", "show", unready["id"], "--json").json()["incident"]["status"] == "open"
    audit = [
        json.loads(line)
        for line in (drill.root / "var/log/csm/audit.jsonl").read_text().splitlines()
    ]
    assert [(a["action"], a["target"]) for a in audit][-1] == ("incident.status", ready["id"])


def test_bulk_status_needs_an_age_guard_and_confirm(cli: Any, drill: DrillHost) -> None:
    assert cli("incidents", "bulk-status", "--kind", "web_attack").code == 2
    assert cli("incidents", "bulk-status", "--older-than", "72h", "--apply").code == 2
    assert cli("incidents", "bulk-status", "--older-than", "3 days").code == 2
    assert cli("incidents", "bulk-status", "--older-than", "72h", "--limit", "5000").code == 2
    bad_time = cli("incidents", "bulk-status", "--last-seen-before", "yesterday", "--json")
    assert bad_time.code == 2 and bad_time.json()["code"] == "usage"
    both = cli("incidents", "bulk-status", "--older-than", "1h", "--last-seen-before",
               "2000-01-01T00:00:00Z", "--json").json()  # fmt: skip
    assert both["matched"] == 0  # guards are ANDed


def test_status_refusal_exits_3_with_the_unmet_conditions(cli: Any, drill: DrillHost) -> None:
    incident = by_kind(cli)["mailbox_takeover"][0]
    backed_up(cli, drill)
    refused = cli("incidents", "status", incident["id"], "resolved", "--json")
    assert refused.code == 3
    body = refused.json()
    assert body["code"] == "refused"
    assert body["details"]["blocked"][0]["id"] == incident["id"]
    human = cli("incidents", "status", incident["id"], "resolved")
    assert human.code == 3 and "csm incidents review" in human.err


def test_status_changes_and_dismissal(cli: Any, drill: DrillHost) -> None:
    incident = by_kind(cli)["mailbox_bruteforce"][0]
    backed_up(cli, drill)
    assert cli("incidents", "status", incident["id"], "contained", "--json").json()["ok"] is True
    assert cli("incidents", "status", incident["id"], "dismissed").code == 2  # needs --details
    done = cli("incidents", "status", incident["id"], "dismissed", "--details", "pen test")
    assert done.code == 0 and "contained -> dismissed" in done.out


def test_sweep_holds_the_unreviewed_spam_incident_and_previews_by_default(
    cli: Any, drill: DrillHost
) -> None:
    before = cli("incidents", "list", "--json").json()
    preview = cli("incidents", "sweep", "--json").json()
    assert preview["dry_run"] is True
    assert (preview["closed_stale"], preview["held"]) == (0, 1)  # the 30-hour-old mailbox takeover
    assert cli("incidents", "list", "--json").json() == before


def test_crafted_text_is_shown_literally_not_as_markup_or_escapes(
    cli: Any, drill: DrillHost
) -> None:
    from csm.audit import AuditLog
    from csm.config.incidents import IncidentsConfig
    from csm.incidents.model import Finding, Severity
    from csm.incidents.service import Incidents

    store = Store.open(drill.root / "var/lib/csm/state", clock=SystemClock())
    service = Incidents(
        store, IncidentsConfig(), SystemClock(), AuditLog(store, drill.root / "log", SystemClock())
    )
    crafted = "[/][bold red]owned[/] \x1b[2J\x1b]0;pwned\x07 [link=http://x]y"
    (incident,) = service.record(
        [Finding("webshell", Severity.CRITICAL, crafted, SystemClock().now(), account="[red]acme")]
    ).incidents
    store.close()
    shown = cli("incidents", "show", incident)
    assert shown.code == 0
    assert "\x1b" not in shown.out
    assert "[/][bold red]owned[/] \\x1b[2J" in shown.out
    listed = cli("incidents", "list")
    assert listed.code == 0 and "[red]acme" in listed.out


def test_incident_state_changes_need_a_recent_backup(cli: Any, drill: DrillHost) -> None:
    incident = by_kind(cli)["mailbox_bruteforce"][0]
    refused = cli("incidents", "status", incident["id"], "contained", "--json")
    assert refused.code == 3 and "take a CSM backup" in refused.json()["error"]
    assert refused.json()["fix"].startswith("csm backup /root/csm-backups/csm-pre-change-")
    human = cli(*RUNBOOK_APPLY)
    assert human.code == 3 and "Fix: csm backup /root/csm-backups/" in human.err
    assert cli(*RUNBOOK_PREVIEW_WEB.split()).code == 0  # a preview changes nothing: no backup
    assert cli("incidents", "show", incident["id"], "--json").json()["incident"]["status"] == "open"
    backed_up(cli, drill)
    assert cli("incidents", "status", incident["id"], "contained").code == 0


def test_the_backup_rule_can_be_turned_off(cli: Any, drill: DrillHost) -> None:
    dropin(drill, "60-no-backup-rule.yaml", "incidents:\n  require_backup_within: 0\n")
    incident = by_kind(cli)["mailbox_bruteforce"][0]
    assert cli("incidents", "status", incident["id"], "contained").code == 0
