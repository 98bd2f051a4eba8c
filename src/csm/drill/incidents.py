"""The incidents a simulated host starts with: what the runbook's operator finds on arrival.

They are findings fed through the real incidents engine, timed relative to the build:
a mailbox pumping spam (30 h ago), a webshell in an upload directory (4 days ago), an older web
compromise (5 days ago), an SMTP brute-forcer (2 h ago), a credential leak (1 h ago) and an sshd
config change (6 h ago).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from csm.drill.plan import Account
from csm.incidents.model import Finding, Severity

H = timedelta(hours=1)
M = timedelta(minutes=1)
ATTACKER = "203.0.113.45"


def findings(accounts: Sequence[Account], now: datetime) -> list[Finding]:
    spammer, webshell, older = accounts[0], accounts[1], accounts[2]
    return [
        *_spam(spammer, now - 30 * H),
        *_webshell(webshell, now - 96 * H),
        *_web_compromise(older, now - 120 * H),
        *_bruteforce(spammer, now - 2 * H),
        *_leak(older, now - 1 * H),
        Finding(
            "sshd_config_change",
            Severity.HIGH,
            "sshd_config changed: PermitRootLogin yes",
            now - 6 * H,
            path="/etc/ssh/sshd_config",
        ),
    ]


def _spam(account: Account, at: datetime) -> list[Finding]:
    box = account.mailboxes[0].address
    counts = (
        (0, 64, Severity.HIGH, "email_rate_warning"),
        (6, 131, Severity.CRITICAL, "email_rate_critical"),
    )
    return [
        Finding(
            check,
            severity,
            f"{box} sent {n} messages in 10 minutes via dovecot_login",
            at + minutes * M,
            account=account.user,
            mailbox=box,
            remote_ip="198.51.100.23",
        )
        for minutes, n, severity, check in counts
    ]


WEBSHELL = "public_html/wp-content/uploads/2026/10/cache.php"  # under the second account's home
WEBSHELL_TEXT = '<?php @eval($_POST["x"]); ?>\n'  # an inert one-line sample, written for CSM


def _webshell(account: Account, at: datetime) -> list[Finding]:
    path = f"{account.home}/{WEBSHELL}"
    return [
        Finding(
            "new_php_file",
            Severity.WARNING,
            f"PHP file in uploads: {path}",
            at,
            account=account.user,
            path=path,
        ),
        Finding(
            "obfuscated_php",
            Severity.HIGH,
            f"eval(base64_decode(...)) in {path}",
            at + 3 * M,
            account=account.user,
            path=path,
        ),
    ]


def _web_compromise(account: Account, at: datetime) -> list[Finding]:
    path = f"{account.home}/public_html/.htaccess"
    return [
        Finding(
            "htaccess_injection",
            Severity.HIGH,
            f"auto_prepend_file added to {path}",
            at,
            account=account.user,
            path=path,
        ),
        Finding(
            "htaccess_injection",
            Severity.HIGH,
            f"spam redirect rule in {path}",
            at + 2 * M,
            account=account.user,
            path=path,
        ),
    ]


def _bruteforce(account: Account, at: datetime) -> list[Finding]:
    box = account.mailboxes[-1].address
    return [
        Finding(
            "smtp_bruteforce",
            Severity.HIGH,
            f"{n} SMTP AUTH failures for {box}",
            at + i * 4 * M,
            mailbox=box,
            remote_ip=ATTACKER,
        )
        for i, n in enumerate((25, 60))
    ]


def _leak(account: Account, at: datetime) -> list[Finding]:
    box = account.mailboxes[0].address
    return [
        Finding(
            "email_credential_leak",
            Severity.CRITICAL,
            f"password of {box} in a subject line",
            at,
            account=account.user,
            mailbox=box,
        ),
    ]
