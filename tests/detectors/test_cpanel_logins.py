"""cPanel, WHM and Webmail logins from cpsrvd's access log: failures per address open an
attacker's incident, a login accepted after failures from the same address is a compromised
account (or mailbox); `csm check-logs` finds the log by its lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from csm.accounts.domains import DomainMap
from csm.config.mailrules import default_rules
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.pipeline import MailDetectors
from csm.drill.build import DrillHost
from csm.incidents import classify
from csm.incidents.model import Kind


def line(ip: str, user: str, status: int, second: int, path: str = "/login/?login_only=1") -> str:
    minute, sec = divmod(second, 60)
    return (
        f'{ip} - {user} [12/03/2026:06:{minute:02d}:{sec:02d} -0000] "POST {path} HTTP/1.1"'
        f' {status} 38 "-" "Mozilla/5.0" "-" "-" 2083'
    )


def detectors() -> MailDetectors:
    context = MailContext.build(default_rules(), DomainMap({"acme.test": "acme"}), [], [])
    return MailDetectors(context)


def feed(found: MailDetectors, lines: list[str]) -> list[Any]:
    return found.cpanel_lines([text.encode() for text in lines])


def test_failures_from_one_address_are_an_attack() -> None:
    threshold = default_rules().brute_per_ip
    lines = [line("203.0.113.9", f"user{n}", 401, n) for n in range(threshold)]
    found = feed(detectors(), lines)
    brute = [f for f in found if f.check == "cpanel_bruteforce"]
    assert len(brute) == 1 and brute[0].remote_ip == "203.0.113.9"
    assert classify.kind_of(brute[0]) is Kind.WEB_ATTACK
    assert not feed(detectors(), lines[:-1])  # one fewer: nothing


def test_a_login_after_failures_is_a_compromised_account() -> None:
    failures = default_rules().failure_then_success
    lines = [line("198.51.100.4", "acme", 401, n) for n in range(failures)]
    lines.append(line("198.51.100.4", "acme", 200, 30))
    found = [f for f in feed(detectors(), lines) if f.check == "cpanel_login_after_failures"]
    assert len(found) == 1 and found[0].account == "acme" and not found[0].mailbox
    assert classify.kind_of(found[0]) is Kind.WEB_ACCOUNT_COMPROMISE


def test_a_webmail_login_after_failures_is_a_mailbox_takeover() -> None:
    failures = default_rules().failure_then_success
    lines = [line("198.51.100.5", "info@acme.test", 401, n) for n in range(failures)]
    lines.append(line("198.51.100.5", "info@acme.test", 200, 30))
    found = [f for f in feed(detectors(), lines) if f.check == "cpanel_login_after_failures"]
    assert len(found) == 1 and found[0].mailbox == "info@acme.test"
    assert found[0].account == "acme"
    assert classify.kind_of(found[0]) is Kind.MAILBOX_TAKEOVER


def test_pages_of_a_session_are_not_logins() -> None:
    failures = default_rules().failure_then_success
    lines = [line("198.51.100.6", "acme", 401, n) for n in range(failures)]
    lines.append(line("198.51.100.6", "acme", 200, 30, path="/cpsess1/frontend/jupiter/"))
    assert not [f for f in feed(detectors(), lines) if f.check == "cpanel_login_after_failures"]


def test_check_logs_finds_the_access_log_by_its_lines(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    log = tmp_path / "access_log"
    threshold = default_rules().brute_per_ip
    lines = ["garbage that is no line of any log"]
    lines += [line("203.0.113.9", f"user{n}", 401, n) for n in range(threshold)]
    log.write_text("\n".join(lines) + "\n")
    report = cli("check-logs", str(log), "--json").json()
    assert report["files"][0]["source"] == "cpanel"
    assert report["files"][0]["skipped"] == 1
    assert [f["check"] for f in report["findings"]] == ["cpanel_bruteforce"]
