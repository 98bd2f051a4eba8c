"""The runbook's "only remove or thaw message IDs that were reviewed", on queues the real Exim
built: a decision rests on a recorded review that covers the message, or on an explicit and
recorded approval; the actions act on no other decision."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from csm.clock import SystemClock
from csm.drill.build import EXIM_CONFIG, DrillHost, build
from csm.drill.mailqueue import QueuePlan, build_queue
from csm.mailqueue import repo
from csm.mailqueue.reader import parse_listing
from csm.store.db import Store

pytestmark = pytest.mark.exim
UNQUEUED = "1vXyZa-0000Ab-Cd"  # a well-formed id no queue holds
STATE = "var/lib/csm/state"


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[DrillHost, QueuePlan]:
    host = build(tmp_path / "host", 1, SystemClock())
    monkeypatch.setenv("CSM_CONFIG", str(host.config_path))
    return host, build_queue(host, 2)


def queued(host: DrillHost) -> set[str]:
    """The ids ``exim -bp`` lists."""
    argv = [host.exim_bin, "-C", str(host.root / EXIM_CONFIG.lstrip("/")), "-bp"]
    listed = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout
    return {m.id for m in parse_listing(listed, int(time.time()))}


def audited(host: DrillHost, action: str) -> dict[str, dict[str, Any]]:
    log = host.root / "var/log/csm/audit.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    entries = [json.loads(line) for line in lines]
    return {e["target"]: e["details"] for e in entries if e["action"] == action}


def other_account(host: DrillHost, plan: QueuePlan) -> str:
    """A message of the stolen mailbox's account (not the PHP spammer's)."""
    assert host.accounts[0].user != plan.php_account
    return plan.ids["stolen_spam"][0]


def test_an_id_in_no_recorded_review_is_refused_and_nothing_is_decided(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    spam = plan.ids["stolen_spam"][:2]
    for ids in ([UNQUEUED], list(spam)):
        refused = cli("queue", "decide", *ids, "remove", "--note", "spam", "--json")
        assert refused.code == 3, refused.out
        error = refused.json()
        assert "reviewed ids only" in error["error"] and "csm queue review" in error["fix"]
    assert cli("queue", "review", "--no-record").code == 0  # a review not recorded covers none
    assert cli("queue", "decide", spam[0], "remove", "--note", "spam").code == 3
    assert not audited(host, "queue.decide.remove")
    assert cli("creds", "defer", host.accounts[0].user, "--reason", "tonight").code == 0
    for msgid in (UNQUEUED, spam[0]):
        refused = cli("queue", "remove", msgid)
        assert refused.code == 3 and "no recorded `remove` decision" in refused.err
    assert set(spam) <= queued(host)


def test_one_id_outside_the_review_refuses_the_whole_decision(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    php = plan.ids["php_spam"][0]
    review = cli("queue", "review", "--account", plan.php_account, "--json").json()
    assert php in {v["id"] for v in review["verdicts"]}
    mixed = cli("queue", "decide", php, other_account(host, plan), "remove", "--note", "spam")
    assert mixed.code == 3 and other_account(host, plan) in mixed.err
    assert "1 message(s)" in mixed.err
    assert not audited(host, "queue.decide.remove")  # the reviewed id was not decided either


def test_a_review_covers_its_account_only_and_the_newest_covering_review_is_the_default(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    php, theirs = plan.ids["php_spam"][0], other_account(host, plan)
    whole = cli("queue", "review", "--json").json()["id"]
    mine = cli("queue", "review", "--account", plan.php_account, "--json").json()["id"]
    outside = cli("queue", "decide", theirs, "remove", "--note", "spam", "--review", mine)
    assert outside.code == 3 and f"not in queue review {mine}" in outside.err
    decided = cli("queue", "decide", php, theirs, "remove", "--note", "spam", "--json").json()
    assert decided["reviews"] == {php: mine, theirs: whole}  # each on the newest covering it
    assert decided["review"] == "" and decided["approved"] == []
    pinned = cli("queue", "decide", php, "keep", "--note", "x", "--review", whole, "--json")
    assert pinned.json()["review"] == whole and pinned.json()["reviews"] == {php: whole}
    assert audited(host, "queue.decide.remove")[theirs]["review"] == whole
    assert cli("queue", "decide", php, "keep", "--note", "x", "--review", "QR-none").code == 1


def test_a_review_made_earlier_still_covers_a_message_still_queued(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    spam = list(plan.ids["stolen_spam"][:3])
    earlier = cli("queue", "review", "--json").json()["id"]
    assert cli("queue", "review", "--account", plan.php_account).code == 0  # a later review
    decided = cli("queue", "decide", *spam, "remove", "--note", "stolen mailbox spam", "--json")
    assert decided.code == 0 and decided.json()["review"] == earlier
    assert cli("creds", "defer", host.accounts[0].user, "--reason", "tonight").code == 0
    removed = cli("queue", "remove", *spam, "--json")
    assert removed.code == 0, removed.err
    assert sorted(removed.json()["done"]) == sorted(spam)


def test_approve_decides_without_review_recorded_as_such(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    host, plan = fresh
    spam = plan.ids["stolen_spam"][0]
    reason = "the customer forwarded it: spam"
    decided = cli("queue", "decide", spam, "remove", "--note", "spam", "--approve", reason)
    assert decided.code == 0, decided.err
    assert f"decided without review, approved: {reason}" in decided.out
    assert audited(host, "queue.decide.remove")[spam] == {
        "note": "spam", "review": "", "approval": reason,
    }  # fmt: skip
    store = Store.open(host.root / STATE)
    try:
        row = repo.decisions(store.conn, [spam])[spam]
    finally:
        store.close()
    assert (row.review, row.approval) == ("", reason)
    assert cli("creds", "defer", host.accounts[0].user, "--reason", "tonight").code == 0
    removed = cli("queue", "remove", spam, "--json")
    assert removed.code == 0 and removed.json()["done"] == [spam]
    group = ("--accept-review", "QR-any", "--group", "safe_to_remove")
    assert cli("queue", "decide", *group, "--approve", reason).code == 2  # a review's group


def test_actions_refuse_decisions_that_rest_on_no_review(
    cli: Any, fresh: tuple[DrillHost, QueuePlan]
) -> None:
    """Decisions recorded before the rule (no review, no approval), or naming a review that
    does not cover the message, are not acted upon, credentials handled or not."""
    host, plan = fresh
    legacy, misnamed = plan.ids["stolen_spam"][:2]
    review = cli("queue", "review", "--account", plan.php_account, "--json").json()["id"]
    at = datetime.now(UTC)
    store = Store.open(host.root / STATE)
    try:
        with store.transaction() as conn:  # as CSM recorded `decide ID…` before the rule
            old = repo.Decision(legacy, "remove", "old", "root", at)
            repo.decide(conn, [old, replace(old, msgid=misnamed, review=review)])
    finally:
        store.close()
    assert cli("creds", "defer", host.accounts[0].user, "--reason", "tonight").code == 0
    for msgid in (legacy, misnamed):
        refused = cli("queue", "remove", msgid, "--approve", "credentials gate approval")
        assert refused.code == 3 and "no recorded review and no approval" in refused.err
        assert "csm queue review" in refused.err
    assert {legacy, misnamed} <= queued(host)
    assert not audited(host, "queue.remove")
