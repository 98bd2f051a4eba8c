"""The drill's mail queue, filled through the real Exim and read back with Exim's own tools."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from csm.clock import SystemClock
from csm.drill.build import EXIM_CONFIG, EXIM_SPOOL, DrillHost, build
from csm.drill.mailqueue import BASE, QueuePlan, build_queue

pytestmark = pytest.mark.exim


def exim(host: DrillHost, *args: str) -> str:
    argv = [host.exim_bin, "-C", str(host.root / EXIM_CONFIG.lstrip("/")), *args]
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout


def header_file(host: DrillHost, msgid: str) -> Path:
    return host.root / EXIM_SPOOL.lstrip("/") / "input" / msgid[5] / f"{msgid}-H"


def subjects(host: DrillHost, plan: QueuePlan) -> dict[str, Counter[str]]:
    pattern = re.compile(r"^\d{3}. Subject: (.*)$", re.MULTILINE)
    return {
        name: Counter(
            found.group(1)
            for msgid in ids
            if (found := pattern.search(header_file(host, msgid).read_text()))
        )
        for name, ids in plan.ids.items()
    }


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory) -> tuple[DrillHost, QueuePlan]:
    host = build(tmp_path_factory.mktemp("mq") / "h", 1, SystemClock())
    return host, build_queue(host, 1)


def test_exim_counts_every_planned_message(
    queued: tuple[DrillHost, QueuePlan], exim_bin: str
) -> None:
    host, plan = queued
    assert {name: len(ids) for name, ids in plan.ids.items()} == BASE
    assert plan.total == sum(BASE.values()) == 400
    assert int(exim(host, "-bpc").strip()) == plan.total
    every = [msgid for ids in plan.ids.values() for msgid in ids]
    assert len(set(every)) == len(every)
    assert all(list(ids) == sorted(ids, key=lambda i: (i[:6], i[14:])) for ids in plan.ids.values())


def test_only_the_frozen_bounces_are_frozen(
    queued: tuple[DrillHost, QueuePlan], exim_bin: str
) -> None:
    host, plan = queued
    frozen = [line.split() for line in exim(host, "-bp").splitlines() if "*** frozen ***" in line]
    assert len(frozen) == len(plan.ids["frozen_bounces"]) == 20
    assert {fields[2] for fields in frozen} == set(plan.ids["frozen_bounces"])
    assert {fields[3] for fields in frozen} == {"<>"}
    for msgid in plan.ids["backscatter"]:
        text = header_file(host, msgid).read_text()
        assert text.splitlines()[2] == "<>"
        assert "-frozen" not in text
        assert "Subject: Mail delivery failed: returning message to sender" in text


def test_php_spam_is_owned_by_the_accounts_user(
    queued: tuple[DrillHost, QueuePlan], exim_bin: str
) -> None:
    host, plan = queued
    account = host.accounts[-1]
    assert plan.php_account == account.user
    assert plan.php_script == f"{account.domain}/wp-content/uploads/2026/11/mailer.php"
    reference = header_file(host, plan.ids["normal"][0]).stat()
    for msgid in plan.ids["php_spam"]:
        path = header_file(host, msgid)
        lines = path.read_text().splitlines()
        assert lines[0] == f"{msgid}-H"
        assert lines[1] == f"{account.user} {account.uid} {account.uid}"
        assert f"X-PHP-Script: {plan.php_script} for " in path.read_text()
        sender_domain = re.search(r"^\d{3}F From: \S+@(\S+)$", path.read_text(), re.M)
        assert sender_domain is not None and sender_domain.group(1) not in account.domains
        info = path.stat()
        assert (info.st_mode, info.st_uid, info.st_gid) == (
            reference.st_mode, reference.st_uid, reference.st_gid,
        )  # fmt: skip
    others = [i for name, ids in plan.ids.items() if name != "php_spam" for i in ids]
    assert all(header_file(host, i).read_text().splitlines()[1] == "root 0 0" for i in others)
    shown = exim(host, "-Mvh", plan.ids["php_spam"][0])  # Exim still reads the rewritten file
    assert shown.splitlines()[1] == f"{account.user} {account.uid} {account.uid}"


def test_the_stolen_mailbox_sends_from_many_networks(
    queued: tuple[DrillHost, QueuePlan], exim_bin: str
) -> None:
    host, plan = queued
    assert plan.stolen == host.accounts[0].mailboxes[0].address
    auth = re.compile(rf"^--?auth_id {re.escape(plan.stolen)}$", re.MULTILINE)
    address = re.compile(r"^--?host_address \[([\d.]+)\]:\d+$", re.MULTILINE)
    clients = set()
    for msgid in plan.ids["stolen_spam"]:
        text = header_file(host, msgid).read_text()
        assert auth.search(text)
        assert "--received_protocol esmtpa" in text
        found = address.search(text)
        assert found is not None
        clients.add(found.group(1))
    assert len(clients) >= 5
    assert len({".".join(ip.split(".")[:2]) for ip in clients}) >= 3
    for msgid in plan.ids["normal"]:  # nobody else logs in as the stolen mailbox
        assert not auth.search(header_file(host, msgid).read_text())


def test_a_seed_fills_the_same_queue(
    queued: tuple[DrillHost, QueuePlan], tmp_path: Path, exim_bin: str
) -> None:
    host, plan = queued
    again_host = build(tmp_path / "again", 1, SystemClock())
    again = build_queue(again_host, 1)
    assert {n: len(i) for n, i in again.ids.items()} == {n: len(i) for n, i in plan.ids.items()}
    assert set(again.ids["normal"]).isdisjoint(plan.ids["normal"])  # Exim's own new ids
    assert subjects(again_host, again) == subjects(host, plan)
    other_host = build(tmp_path / "other", 2, SystemClock())
    other = build_queue(other_host, 2)
    assert subjects(other_host, other)["invoices"] != subjects(host, plan)["invoices"]


def test_scale_multiplies_every_category(tmp_path: Path, exim_bin: str) -> None:
    host = build(tmp_path / "h", 3, SystemClock())
    plan = build_queue(host, 3, scale=2)
    assert {name: len(ids) for name, ids in plan.ids.items()} == {
        name: 2 * count for name, count in BASE.items()
    }
    assert int(exim(host, "-bpc").strip()) == plan.total == 800
