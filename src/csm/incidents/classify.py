"""Which kind of incident a finding belongs to, and the key that ties it to others.

The rule tables are data; the order of the rules follows the Go implementation (§2.3-2.4 of
``csm-go-facts.md``) because operators' incident histories depend on it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from csm.incidents.model import CorrelationKey, Finding, Kind, Severity

HOST_CHECKS = frozenset({
    "bulk_password_change", "sensitive_file_write", "sensitive_file_modified", "fake_kernel_thread",
    "auditd_disabled", "modsec_disabled", "shadow_change", "sshd_config_change",
    "root_password_change", "uid0_account", "suid_binary", "bad_asn_outbound", "kernel_module",
    "crontab_change", "crond_change", "firewall_ipv6_unmanaged", "mail_auth_backend_degraded",
    "mail_emergency_stop_lasting",
})  # fmt: skip
MAILBOX_BRUTEFORCE_CHECKS = frozenset({
    "email_auth_failure_realtime", "mail_account_spray", "mail_bruteforce",
    "mail_bruteforce_suspected", "mail_subnet_spray", "smtp_account_spray", "smtp_bruteforce",
    "smtp_probe_abuse", "smtp_subnet_spray", "smtp_slow_spray", "mail_slow_spray",
})  # fmt: skip
WEB_ATTACK_CHECKS = frozenset({
    "admin_panel_bruteforce", "wp_login_bruteforce", "wp_user_enumeration", "xmlrpc_abuse",
    "waf_attack_blocked", "api_auth_failure", "api_auth_failure_realtime", "webmail_bruteforce",
    "webmail_login_realtime", "whm_login_realtime", "whm_unauth_scripts_realtime",
    # cPanel, WHM and Webmail login failures (csm.detectors.mail.auth, prefix "cpanel")
    "cpanel_bruteforce", "cpanel_subnet_spray", "cpanel_account_spray", "cpanel_slow_spray",
})  # fmt: skip
WEB_ATTACK_PREFIXES = ("http_", "modsec_")
MAILBOX_TAKEOVER_CHECKS = frozenset({
    "email_cloud_relay_abuse", "email_compromised_account", "email_credential_leak",
    "email_rate_critical", "email_rate_warning", "email_spam_outbreak", "email_suspicious_geo",
    "mail_account_compromised", "mail_per_account", "smtp_brute_failure_then_success",
})  # fmt: skip
IP_SCORE_CHECKS = frozenset({"ip_reputation", "local_threat_score"})
POST_EXPLOIT_DIRS = ("/tmp/", "/var/tmp/", "/dev/shm/")  # noqa: S108 - directories we look for
IGNORED_CHECKS = frozenset({
    "vulnerable_plugins", "outdated_plugins", "auto_block", "auto_response", "challenge_route",
    "reputation_quota_exhausted", "threat_feed_stale",
})  # fmt: skip
OPEN_AT_ONCE_CHECKS = frozenset({"email_filter_exfil", "ip_reputation"})
WEBSHELL_CHECKS = frozenset({
    "webshell", "webshell_realtime", "webshell_content_realtime", "new_webshell_file",
    "obfuscated_php", "obfuscated_php_realtime", "php_shield_webshell",
})  # fmt: skip
C2_CHECKS = frozenset({"c2_connection", "backdoor_port", "backdoor_port_outbound"})
COMPOUND_FLAGS = {
    **dict.fromkeys(WEBSHELL_CHECKS, "webshell"),
    **dict.fromkeys(C2_CHECKS, "c2"),
    "uid0_account": "uid0",
    "suid_binary": "suid",
    "bad_asn_outbound": "bad_asn_outbound",
}
HOST_TAKEOVER_FLAGS = frozenset({"uid0", "suid", "bad_asn_outbound"})
HOST_KEY = CorrelationKey(host="host")
_HOME = re.compile(r"^/home\d*/([^/]+)/")


class Classified(NamedTuple):
    """A finding's kind and key (with the key's encoding, computed once per key)."""

    kind: Kind
    key: CorrelationKey
    key_text: str
    ip_only: bool

    @classmethod
    def of(cls, kind: Kind, key: CorrelationKey) -> Classified:
        return cls(kind, key, key.encode(), key.ip_only)


class Subject(NamedTuple):
    """What classification reads of a finding: the path only as its account, the process only
    as whether it runs from a temporary directory.  Small and hashable, so results are cached."""

    check: str
    remote_ip: str
    mailbox: str
    domain: str
    account: str
    uid: int
    pid: int
    temp_process: bool


def subject(finding: Finding) -> Subject:
    return Subject(
        finding.check,
        finding.remote_ip,
        finding.mailbox,
        finding.domain,
        account_of(finding),
        finding.uid,
        finding.pid,
        finding.process.startswith(POST_EXPLOIT_DIRS),
    )


def classify(finding: Finding) -> Classified | None:
    """The finding's kind and key, or None when it never opens or joins an incident."""
    if finding.check in IGNORED_CHECKS:
        return None
    return _classify(subject(finding))


def kind_of(finding: Finding) -> Kind:
    return _kind(subject(finding))


def key_of(finding: Finding, kind: Kind) -> CorrelationKey:
    return _key(kind, subject(finding))


def _classify(seen: Subject) -> Classified | None:
    kind = _kind(seen)
    key, text, ip_only = _keyed(_KEY_MODE.get(kind, "owner"), seen[1:7])
    return None if key.empty else Classified(kind, key, text, ip_only)


_KEY_MODE = {
    Kind.HOST_INTEGRITY_RISK: "host",
    Kind.WEB_ATTACK: "attacker",
    Kind.MAILBOX_BRUTEFORCE: "attacker",
}


Owner = tuple[str, str, str, str, int, int]  # remote_ip, mailbox, domain, account, uid, pid


@lru_cache(maxsize=131072)
def _keyed(mode: str, owner: Owner) -> tuple[CorrelationKey, str, bool]:
    """Keys are few next to findings: derive each once, with its encoding."""
    key = _key_for(mode, owner)
    return key, key.encode(), key.ip_only


def _kind(seen: Subject) -> Kind:
    check = seen.check
    if check in HOST_CHECKS:
        return Kind.HOST_INTEGRITY_RISK
    attack = _attack_kind(check) if seen.remote_ip else None
    if attack is not None:
        return attack
    if seen.mailbox or check in MAILBOX_TAKEOVER_CHECKS:
        return Kind.MAILBOX_TAKEOVER
    if seen.temp_process:
        return Kind.POST_EXPLOIT_PROCESS
    owned = seen.mailbox or seen.domain or seen.account or seen.uid or seen.pid
    if check in IP_SCORE_CHECKS and seen.remote_ip and not owned:
        return Kind.WEB_ATTACK
    return Kind.WEB_ACCOUNT_COMPROMISE


def _attack_kind(check: str) -> Kind | None:
    if check in MAILBOX_BRUTEFORCE_CHECKS:
        return Kind.MAILBOX_BRUTEFORCE
    if check.startswith(WEB_ATTACK_PREFIXES) or check in WEB_ATTACK_CHECKS:
        return Kind.WEB_ATTACK
    return None


def _key(kind: Kind, seen: Subject) -> CorrelationKey:
    owner: Owner = seen[1:7]
    return _key_for(_KEY_MODE.get(kind, "owner"), owner)


def _key_for(mode: str, owner: Owner) -> CorrelationKey:
    remote_ip, mailbox, domain, account, uid, pid = owner
    if mode == "host":
        return HOST_KEY
    if mode == "attacker":
        return CorrelationKey(remote_ip=remote_ip)
    domain, mailbox = canonical_mailbox(mailbox, domain)
    if account or domain or mailbox:
        return CorrelationKey(account=account, domain=domain, mailbox=mailbox)
    if uid:
        return CorrelationKey(uid=uid)
    if pid:
        return CorrelationKey(pid=pid)
    return CorrelationKey(remote_ip=remote_ip)


def account_of(finding: Finding) -> str:
    """The finding's account, else the ``/home[N]/<account>/`` segment of its path."""
    if finding.account:
        return finding.account
    match = _HOME.match(finding.path)
    return match.group(1) if match else ""


def canonical_mailbox(mailbox: str, domain: str) -> tuple[str, str]:
    """``(domain, mailbox)``: a full address wins and clears the domain; ``local`` + domain
    becomes ``local@domain``; domains are lower-cased and trimmed, local parts keep their case."""
    domain = domain.strip().lower()
    mailbox = mailbox.strip()
    if "@" in mailbox:
        local, _, box_domain = mailbox.rpartition("@")
        return "", f"{local}@{box_domain.strip().lower()}"
    if mailbox and domain:
        return "", f"{mailbox}@{domain}"
    return domain, mailbox


def opens_at_once(finding: Finding, kind: Kind) -> bool:
    if finding.severity is Severity.CRITICAL or finding.check in OPEN_AT_ONCE_CHECKS:
        return True
    return kind is Kind.HOST_INTEGRITY_RISK and finding.severity.rank >= Severity.HIGH.rank


def compound_flag(check: str) -> str | None:
    """The sticky flag a finding sets on its incident, if any."""
    return COMPOUND_FLAGS.get(check)


def compound_kind(flags: set[str]) -> Kind | None:
    """Webshell + C2 → post-exploitation; two of uid0 / suid / bad ASN → host takeover."""
    if len(flags & HOST_TAKEOVER_FLAGS) >= 2:
        return Kind.HOST_TAKEOVER
    if {"webshell", "c2"} <= flags:
        return Kind.POST_EXPLOIT_PROCESS
    return None
