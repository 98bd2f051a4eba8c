"""``csm queue`` against queues the real Exim built (the drill's test config): every view
compared with ``exim -bp``/``exiqsumm``/``exim -Mvh`` on the same spool; review groups; actions
only on reviewed ids, through the credentials gate, verified, and recoverable."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from csm.clock import SystemClock
from csm.drill import standins
from csm.drill.build import EXIM_CONFIG, DrillHost, build
from csm.drill.mailqueue import QueuePlan, build_queue
from csm.mailqueue.reader import parse_listing
from tests.conftest import dropin

pytestmark = pytest.mark.exim
STANDINS = standins.DIRECTORY


def exim(host: DrillHost, *args: str) -> str:
    argv = [host.exim_bin, "-C", str(host.root / EXIM_CONFIG.lstrip("/")), *args]
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout


def listing(host: DrillHost) -> dict[str, tuple[Any, ...]]:
    """``exim -bp`` by id: sender, frozen, pending recipients, size (ages tick: left out)."""
    found = parse_listing(exim(host, "-bp"), int(time.time()))
    return {m.id: (m.sender, m.frozen, sorted(m.recipients), m.size) for m in found}


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory) -> tuple[DrillHost, QueuePlan]:
    host = build(tmp_path_factory.mktemp("queue") / "host", 1, SystemClock())
    return host, build_queue(host, 1)


@pytest.fixture
def viewing(queued: tuple[DrillHost, QueuePlan], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CSM_CONFIG", str(queued[0].config_path))
    return queued


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[DrillHost, QueuePlan]:
    host = build(tmp_path / "host", 1, SystemClock())
    monkeypatch.setenv("CSM_CONFIG", str(host.config_path))
    return host, build_queue(host, 2)


def test_count_and_list_are_exim_s(cli: Any, viewing: tuple[DrillHost, QueuePlan]) -> None:
    host, plan = viewing
    assert cli("queue", "count", "--json").json()["count"] == int(exim(host, "-bpc")) == plan.total
    listed = cli("queue", "list", "--json").json()["items"]
    ours = {m["id"]: (m["sender"], m["frozen"], sorted(m["recipients"]), m["size"]) for m in listed}
    assert ours == listing(host)
    frozen = cli("queue", "list", "--frozen", "--json").json()["items"]
    assert sorted(m["id"] for m in frozen) == sorted(plan.ids["frozen_bounces"])
    by_sender = cli("queue", "list", "--sender", plan.stolen.upper(), "--json").json()
    assert {m["id"] for m in by_sender["items"]} >= set(plan.ids["stolen_spam"])
    assert cli("queue", "list", "--older-than", "1h", "--json").json()["count"] == 0  # just queued
    assert cli("queue", "list", "--older-than", "soon").code == 2


def test_the_domain_summary_is_exiqsumm_s(cli: Any, viewing: tuple[DrillHost, QueuePlan]) -> None:
    host, _ = viewing
    listed = exim(host, "-bp")
    summed = subprocess.run(["exiqsumm"], input=listed, capture_output=True, text=True, check=True)
    theirs = {}
    for line in summed.stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0].isdigit():
            theirs[parts[4]] = int(parts[0])
    rows = cli("queue", "summary", "--json").json()
    ours = {r["key"]: r["messages"] for r in rows["rows"]} | {"TOTAL": rows["total"]["messages"]}
    assert ours == theirs and len(theirs) >= 5


def test_the_summaries_point_at_the_stolen_mailbox_and_the_script(
    cli: Any, viewing: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = viewing
    rows = cli("queue", "summary", "--by", "auth", "--json").json()["rows"]
    by_auth = [r for r in rows if r["key"] != "(not authenticated)"]  # PHP mail, bounces
    assert by_auth[0]["key"] == plan.stolen and by_auth[0]["messages"] == len(
        plan.ids["stolen_spam"]
    )
    by_script = cli("queue", "summary", "--by", "script", "--json").json()["rows"]
    php = next(r for r in by_script if r["key"] == plan.php_script)
    assert php["messages"] == len(plan.ids["php_spam"]) and php["accounts"] == [plan.php_account]
    by_account = {
        r["key"]: r for r in cli("queue", "summary", "--by", "account", "--json").json()["rows"]
    }
    assert by_account[plan.php_account]["messages"] >= len(plan.ids["php_spam"])
    assert by_account[host.accounts[0].user]["messages"] >= len(plan.ids["stolen_spam"])


def test_show_prints_the_header_file_as_exim_does(
    cli: Any, viewing: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = viewing
    msgid = plan.ids["php_spam"][0]
    shown = cli("queue", "show", msgid, "--json").json()
    assert shown["header_file"] == exim(host, "-Mvh", msgid)
    assert shown["body"] is None and shown["message"]["account"] == plan.php_account
    with_body = cli("queue", "show", msgid, "--body", "--json").json()
    assert with_body["body"]
    audit = (host.root / "var/log/csm/audit.jsonl").read_text()
    assert "queue.show_body" in audit and msgid in audit
    assert cli("queue", "show", "../../etc/passwd").code == 2


def test_review_groups_the_queue_with_reasons(
    cli: Any, viewing: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = viewing
    result = cli("queue", "review", "--no-record", "--json").json()
    group = {v["id"]: v for v in result["verdicts"]}
    assert all(group[i]["group"] == "safe_to_remove" for i in plan.ids["frozen_bounces"])
    assert all(group[i]["group"] == "safe_to_remove" for i in plan.ids["backscatter"])
    for spam in (*plan.ids["stolen_spam"], *plan.ids["php_spam"]):
        assert group[spam]["group"] == "needs_review" and group[spam]["reasons"]
    assert any("PHP script" in r for r in group[plan.ids["php_spam"][0]]["reasons"])
    assert not [r for i in plan.ids["forms"] for r in group[i]["reasons"] if "PHP" in r]
    assert sum(result["groups"].values()) == plan.total
    # every drill account has open incidents: its mail needs review until its credentials are
    # handled; then its replies are conversations again, and left alone
    replies = [group[i] for i in plan.ids["replies"]]
    assert all(v["group"] == "needs_review" for v in replies)
    calm = next(
        a.user for a in host.accounts if a.user not in (plan.php_account, host.accounts[0].user)
    )
    assert cli("creds", "defer", calm, "--reason", "customer rotates tomorrow").code == 0
    again = {v["id"]: v for v in cli("queue", "review", "--no-record", "--json").json()["verdicts"]}
    theirs = [again[i] for i in plan.ids["replies"] if again[i]["account"] == calm]
    assert theirs and all(v["group"] == "do_not_touch" for v in theirs)
    assert all("conversation" in v["reasons"][0] for v in theirs)
    leads = [again[i] for i in plan.ids["forms"] if again[i]["account"] == calm]
    assert leads and all(v["reasons"] == ["a website form lead"] for v in leads)


def test_remove_only_reviewed_ids_then_restore_intact(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    before = listing(host)
    bounces = plan.ids["frozen_bounces"]
    refused = cli("queue", "remove", bounces[0])
    assert refused.code == 3 and "no recorded `remove` decision" in refused.err
    assert cli("queue", "remove", "not/an-id-at-all").code == 2
    assert listing(host) == before
    review = cli("queue", "review", "--json").json()
    accepted = cli("queue", "decide", "--accept-review", review["id"], "--group", "safe_to_remove",
                   "--json").json()  # fmt: skip
    safe = sorted(accepted["ids"])
    assert set(bounces) <= set(safe) and accepted["decision"] == "remove"
    before_headers = {i: cli("queue", "show", i, "--json").json()["header_file"] for i in safe[:1]}
    removed = cli("queue", "remove", *safe, "--json")
    assert removed.code == 0, removed.err
    assert sorted(removed.json()["done"]) == safe
    after = listing(host)
    assert not set(safe) & set(after) and len(after) == len(before) - len(safe)
    kept = cli("queue", "quarantine", "list", "--json").json()["items"]
    assert sorted(k["id"] for k in kept) == safe
    gone = cli("queue", "show", safe[0])
    assert gone.code == 1 and f"csm queue quarantine show {safe[0]}" in gone.err
    trash = cli("queue", "quarantine", "show", safe[0], "--json").json()
    assert trash["header_file"] == before_headers[safe[0]] and trash["body"] is None
    with_body = cli("queue", "quarantine", "show", safe[0], "--body", "--json").json()
    assert with_body["body"] is not None
    audit = (host.root / "var/log/csm/audit.jsonl").read_text()
    assert "queue.quarantine_show_body" in audit
    restored = cli("queue", "restore", *safe, "--json")
    assert restored.code == 0 and sorted(restored.json()["done"]) == safe
    assert listing(host) == before
    assert cli("queue", "remove", safe[0]).code == 3  # a restored message is decided anew


def test_the_credentials_gate_stands_before_removing_spam(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    spam = list(plan.ids["stolen_spam"][:5])
    account = host.accounts[0].user
    assert cli("queue", "review", "--account", account).code == 0
    assert cli("queue", "decide", *spam, "remove", "--note", "stolen mailbox spam").code == 0
    refused = cli("queue", "remove", *spam)
    assert refused.code == 3
    assert f"csm creds rotate {account} --all" in refused.err
    assert set(spam) <= set(listing(host))
    approved = cli("queue", "remove", spam[0], "--approve", "spam, confirmed by the customer")
    assert approved.code == 0 and spam[0] not in listing(host)
    deferred = cli("creds", "defer", account, "--reason", "rotating with the customer tonight")
    assert deferred.code == 0, deferred.err
    exim(host, "-Mrm", spam[1])  # gone meanwhile: reported, not an error
    done = cli("queue", "remove", *spam[1:], "--json")
    assert done.code == 0, done.err
    assert done.json()["gone"] == [spam[1]] and sorted(done.json()["done"]) == sorted(spam[2:])
    assert not set(spam) & set(listing(host))
    events = cli("incidents", "list", "--account", account, "--json").json()["items"]
    shown = cli("incidents", "show", events[0]["id"], "--json").json()
    assert any(a["action"] == "queue_remove" for a in shown["actions"])


def test_freeze_is_always_allowed_and_thaw_needs_a_release_decision(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    frozen = cli("queue", "freeze", "--account", plan.php_account, "--json")
    assert frozen.code == 0 and len(frozen.json()["done"]) >= len(plan.ids["php_spam"])
    now = listing(host)
    assert all(now[i][1] for i in plan.ids["php_spam"])
    one = plan.ids["php_spam"][0]
    assert cli("queue", "thaw", one).code == 3
    assert cli("queue", "review", "--account", plan.php_account).code == 0
    assert (
        cli("queue", "decide", one, "release", "--note", "the customer's real newsletter").code == 0
    )
    assert cli("queue", "thaw", one, "--approve", "reviewed with the customer").code == 0
    assert not listing(host)[one][1]


def test_a_malformed_spool_file_is_reported_and_skipped(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    victim = plan.ids["normal"][0]
    header = next((host.root / "var/spool/exim/input").rglob(f"{victim}-H"))
    header.write_bytes(header.read_bytes()[:60])  # cut in its envelope
    listed = cli("queue", "list", "--json").json()
    assert victim not in {m["id"] for m in listed["items"]}
    assert [p["id"] for p in listed["problems"]] == [victim]
    assert listed["count"] == plan.total - 1
    summary = cli("queue", "summary")
    assert summary.code == 0 and f"unreadable spool file {header}" in summary.err


def test_an_unreadable_spool_falls_back_to_exim_bp(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    dropin(host, "60-spool.yaml", "mail:\n  exim_spool: /var/spool/nowhere\n")
    summary = cli("queue", "summary", "--by", "sender", "--json").json()
    assert summary["source"] == "exim -bp" and summary["total"]["messages"] == plan.total
    listed = cli("queue", "list", "--json").json()["items"]
    assert {m["id"]: m["sender"] for m in listed} == {i: v[0] for i, v in listing(host).items()}
    assert cli("queue", "count", "--json").json()["count"] == plan.total  # exim -bpc


def test_a_flat_spool_reads_like_a_split_one(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = build(tmp_path / "host", 1, SystemClock())
    conf = host.root / EXIM_CONFIG.lstrip("/")
    conf.write_text(
        conf.read_text().replace("split_spool_directory = true", "split_spool_directory = false")
    )
    monkeypatch.setenv("CSM_CONFIG", str(host.config_path))
    plan = build_queue(host, 1)
    assert not [p for p in (host.root / "var/spool/exim/input").iterdir() if p.is_dir()]
    listed = cli("queue", "list", "--json").json()["items"]
    assert len(listed) == plan.total
    ours = {m["id"]: (m["sender"], m["frozen"], sorted(m["recipients"]), m["size"]) for m in listed}
    assert ours == listing(host)


def test_the_acceptance_path_summary_review_refusal_rotation_removal_restore(
    cli: Any, fresh: tuple[DrillHost, QueuePlan], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #6's acceptance on the simulated host, with cPanel's APIs as stand-ins: the
    summaries point at the stolen mailbox and the PHP script; the review groups the queue; a
    removal before rotation is refused with the command to run; after `csm creds rotate` the
    reviewed ids are removed, quarantined, verified gone, and restored intact."""
    host, plan = fresh
    monkeypatch.setenv("CSM_STANDIN_ROOT", str(host.root))
    bins = f"  uapi_bin: {STANDINS / 'uapi'}\n  whmapi1_bin: {STANDINS / 'whmapi1'}\n"
    dropin(host, "50-standins.yaml", f"cpanel:\n{bins}")
    account = host.accounts[0].user
    by_auth = cli("queue", "summary", "--by", "auth", "--json").json()["rows"]
    stolen = next(r for r in by_auth if r["key"] == plan.stolen)
    assert stolen["accounts"] == [account] and stolen["messages"] == len(plan.ids["stolen_spam"])
    by_account = cli("queue", "summary", "--by", "account", "--json").json()["rows"]
    assert by_account[0]["key"] == account
    review = cli("queue", "review", "--json").json()
    verdicts = {v["id"]: v for v in review["verdicts"]}
    spam = sorted(plan.ids["stolen_spam"])
    assert all(verdicts[i]["group"] == "needs_review" for i in spam)
    before = listing(host)
    assert cli("queue", "decide", *spam, "remove", "--note", "the stolen mailbox's spam").code == 0
    refused = cli("queue", "remove", *spam)
    assert refused.code == 3 and f"csm creds rotate {account} --all" in refused.err
    assert listing(host) == before
    rotated = cli("creds", "rotate", account, f"cpanel:{account}", f"mailbox:{plan.stolen}")
    assert rotated.code == 0, rotated.err
    removed = cli("queue", "remove", *spam, "--json")
    assert removed.code == 0, removed.err
    assert sorted(removed.json()["done"]) == spam and not removed.json()["gone"]
    assert not set(spam) & set(listing(host))
    kept = cli("queue", "quarantine", "list", "--json").json()["items"]
    assert sorted(k["id"] for k in kept) == spam
    assert cli("queue", "restore", *spam).code == 0
    assert listing(host) == before


def test_the_accept_hint_is_only_for_a_safe_group_that_holds_messages(
    cli: Any, viewing: tuple[DrillHost, QueuePlan]
) -> None:
    _, plan = viewing
    review = cli("queue", "review", "--account", plan.php_account, "--brief")
    assert review.code == 0, review.err
    counts = cli("queue", "review", "--account", plan.php_account, "--no-record", "--json")
    groups = counts.json()["groups"]
    hinted = {line.split("--group ")[1].split()[0] for line in review.out.splitlines()
              if line.startswith("accept a group:")}  # fmt: skip
    assert hinted == ({"safe_to_remove"} if groups["safe_to_remove"] else set())
