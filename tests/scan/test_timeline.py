"""``csm mail timeline`` on the simulated host's mail day."""

from __future__ import annotations

from typing import Any

import pytest

from csm.accounts.domains import DomainMap
from csm.drill.build import DrillHost
from csm.drill.maillog import GUESSER, generate
from csm.errors import UsageError
from csm.scan import timeline


def test_the_stolen_mailbox_story_in_order(cli: Any, drill: DrillHost) -> None:
    stolen = generate(drill.accounts, drill.seed).stolen
    result = cli("mail", "timeline", stolen, "--since", "2026-11-20T13:30:00Z", "--json")
    assert result.code == 0, result.err
    timeline = result.json()
    kinds = [(e["kind"], e["ip"]) for e in timeline["events"]]
    failures = [i for i, (kind, ip) in enumerate(kinds) if kind == "failed_login" and ip == GUESSER]
    guessed = kinds.index(("new_network", GUESSER))
    bursts = [i for i, (kind, _) in enumerate(kinds) if kind == "burst"]
    assert len(failures) == 4 and max(failures) < guessed < min(bursts)
    spike = {h["hour"]: h["sent"] for h in timeline["hours"]}
    assert spike["2026-11-20T14:00:00Z"] > 500
    assert all(h["hour"] >= "2026-11-20T13:00:00Z" for h in timeline["hours"])


def test_an_account_covers_its_local_mail(cli: Any, drill: DrillHost) -> None:
    php_account = drill.accounts[-1].user
    timeline = cli("mail", "timeline", php_account, "--json").json()
    busiest = max(timeline["hours"], key=lambda h: h["sent"])
    assert (busiest["hour"], busiest["sent"]) == ("2026-11-20T03:00:00Z", 240)


def test_an_unknown_subject_has_an_empty_day(cli: Any, drill: DrillHost) -> None:
    timeline = cli("mail", "timeline", "nobody@nowhere.example", "--json").json()
    assert (timeline["hours"], timeline["events"]) == ([], [])


@pytest.mark.parametrize("subject", ["", "   "])
def test_an_empty_subject_is_a_usage_error_not_the_whole_host(
    cli: Any, drill: DrillHost, subject: str
) -> None:
    result = cli("mail", "timeline", subject, "--json")
    assert result.code == 2 and result.json()["code"] == "usage"
    logs = [drill.root / "var/log/maillog", drill.root / "var/log/exim_mainlog"]
    with pytest.raises(UsageError, match="name a mailbox"):
        timeline.build(subject, logs, DomainMap(), 10, None)


def test_human_output(cli: Any, drill: DrillHost) -> None:
    stolen = generate(drill.accounts, drill.seed).stolen
    log = str(drill.root / "var/log/maillog")
    result = cli("mail", "timeline", stolen, "--log", log)
    assert result.code == 0
    assert "FAILED LOGINS" in result.out and "imap login failed" in result.out
