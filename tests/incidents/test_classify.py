"""Every classification and key rule of §2.3-2.4."""

from __future__ import annotations

import pytest

from csm.incidents import classify
from csm.incidents.model import CorrelationKey, Kind
from tests.incidents.conftest import finding


@pytest.mark.parametrize("check", sorted(classify.HOST_CHECKS))
def test_host_checks_are_host_integrity_with_one_host_key(check: str) -> None:
    found = classify.classify(finding(check, account="acme", remote_ip="192.0.2.1"))
    assert found == classify.Classified.of(Kind.HOST_INTEGRITY_RISK, CorrelationKey(host="host"))


@pytest.mark.parametrize("check", sorted(classify.MAILBOX_BRUTEFORCE_CHECKS))
def test_mail_bruteforce_with_an_ip_is_keyed_by_the_attacker(check: str) -> None:
    found = classify.classify(finding(check, mailbox="info@acme.test", remote_ip="192.0.2.7"))
    assert found == classify.Classified.of(
        Kind.MAILBOX_BRUTEFORCE, CorrelationKey(remote_ip="192.0.2.7")
    )


@pytest.mark.parametrize(
    "check", [*sorted(classify.WEB_ATTACK_CHECKS), "http_sqli", "modsec_block"]
)
def test_web_attacks_with_an_ip_are_keyed_by_the_attacker(check: str) -> None:
    found = classify.classify(finding(check, account="acme", remote_ip="192.0.2.8"))
    assert found == classify.Classified.of(Kind.WEB_ATTACK, CorrelationKey(remote_ip="192.0.2.8"))


def test_attack_checks_without_an_ip_fall_through() -> None:
    assert classify.kind_of(finding("smtp_bruteforce", mailbox="a@b.test")) is Kind.MAILBOX_TAKEOVER
    assert (
        classify.kind_of(finding("wp_login_bruteforce", account="acme"))
        is Kind.WEB_ACCOUNT_COMPROMISE
    )


@pytest.mark.parametrize("check", sorted(classify.MAILBOX_TAKEOVER_CHECKS))
def test_mailbox_takeover_checks(check: str) -> None:
    assert classify.kind_of(finding(check, account="acme")) is Kind.MAILBOX_TAKEOVER


def test_any_finding_with_a_mailbox_is_a_mailbox_takeover() -> None:
    assert (
        classify.kind_of(finding("something_new", mailbox="info@acme.test"))
        is Kind.MAILBOX_TAKEOVER
    )


@pytest.mark.parametrize("exe", ["/tmp/.x/kworker", "/var/tmp/miner", "/dev/shm/s"])
def test_processes_running_from_temp_dirs_are_post_exploitation(exe: str) -> None:
    assert (
        classify.kind_of(finding("suspicious_process", pid=4242, process=exe))
        is Kind.POST_EXPLOIT_PROCESS
    )


def test_ip_scores_keyed_only_by_ip_are_web_attacks() -> None:
    assert classify.kind_of(finding("ip_reputation", remote_ip="192.0.2.9")) is Kind.WEB_ATTACK
    assert classify.kind_of(finding("local_threat_score", remote_ip="192.0.2.9")) is Kind.WEB_ATTACK
    owned = finding("ip_reputation", remote_ip="192.0.2.9", path="/home/acme/x")
    assert classify.kind_of(owned) is Kind.WEB_ACCOUNT_COMPROMISE


def test_everything_else_is_a_web_account_compromise() -> None:
    assert (
        classify.kind_of(finding("htaccess_injection", account="acme"))
        is Kind.WEB_ACCOUNT_COMPROMISE
    )


@pytest.mark.parametrize("check", sorted(classify.IGNORED_CHECKS))
def test_advisory_checks_never_open_incidents(check: str) -> None:
    assert classify.classify(finding(check, account="acme")) is None


def test_a_finding_with_no_key_is_ignored() -> None:
    assert classify.classify(finding("htaccess_injection")) is None


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"account": "acme", "path": "/home/other/x"}, CorrelationKey(account="acme")),
        ({"path": "/home3/acme/public_html/x.php"}, CorrelationKey(account="acme")),
        ({"path": "/homes/acme/x"}, CorrelationKey()),
        (
            {"mailbox": "Info@ACME.Test ", "domain": "x.test"},
            CorrelationKey(mailbox="Info@acme.test"),
        ),
        ({"mailbox": "Info", "domain": " ACME.test"}, CorrelationKey(mailbox="Info@acme.test")),
        ({"domain": " ACME.test "}, CorrelationKey(domain="acme.test")),
        (
            {"account": "acme", "mailbox": "a@acme.test"},
            CorrelationKey(account="acme", mailbox="a@acme.test"),
        ),
        ({"uid": 1001, "pid": 77, "remote_ip": "192.0.2.1"}, CorrelationKey(uid=1001)),
        ({"pid": 77, "remote_ip": "192.0.2.1"}, CorrelationKey(pid=77)),
        ({"remote_ip": "192.0.2.1"}, CorrelationKey(remote_ip="192.0.2.1")),
    ],
)
def test_key_rules(fields: dict[str, object], key: CorrelationKey) -> None:
    found = finding("htaccess_injection", **fields)
    assert classify.key_of(found, Kind.WEB_ACCOUNT_COMPROMISE) == key


def test_key_encoding_is_length_prefixed_so_fields_never_collide() -> None:
    a = CorrelationKey(account="a;domain1:b", domain="")
    b = CorrelationKey(account="a", domain="b")
    assert a.encode() != b.encode()
    assert CorrelationKey(pid=12).encode() != CorrelationKey(uid=12).encode()


@pytest.mark.parametrize(
    ("check", "severity", "kind", "at_once"),
    [
        ("htaccess_injection", "CRITICAL", Kind.WEB_ACCOUNT_COMPROMISE, True),
        ("email_filter_exfil", "WARNING", Kind.MAILBOX_TAKEOVER, True),
        ("ip_reputation", "WARNING", Kind.WEB_ATTACK, True),
        ("shadow_change", "HIGH", Kind.HOST_INTEGRITY_RISK, True),
        ("shadow_change", "WARNING", Kind.HOST_INTEGRITY_RISK, False),
        ("htaccess_injection", "HIGH", Kind.WEB_ACCOUNT_COMPROMISE, False),
    ],
)
def test_what_opens_at_once(check: str, severity: str, kind: Kind, at_once: bool) -> None:
    assert classify.opens_at_once(finding(check, severity), kind) is at_once


def test_compound_rules() -> None:
    assert classify.compound_kind({"webshell", "c2"}) is Kind.POST_EXPLOIT_PROCESS
    assert classify.compound_kind({"uid0", "suid"}) is Kind.HOST_TAKEOVER
    assert (
        classify.compound_kind({"suid", "bad_asn_outbound", "webshell", "c2"}) is Kind.HOST_TAKEOVER
    )
    assert classify.compound_kind({"webshell", "suid"}) is None
    assert classify.compound_flag("backdoor_port_outbound") == "c2"
    assert classify.compound_flag("obfuscated_php_realtime") == "webshell"
    assert classify.compound_flag("htaccess_injection") is None
