"""The cPanel side of the simulated host: account files, domain maps, mailboxes."""

from __future__ import annotations

import json
from collections.abc import Sequence

import yaml

from csm.drill.plan import Account, addon_subdomain
from csm.drill.tree import Tree

CPANEL_VERSION = "11.126.0.9\n"
PRIVATE_DIRS = (".cpanel", ".ssh", "etc", "logs", "mail", "ssl", "tmp")


def write_host_files(tree: Tree, accounts: Sequence[Account]) -> None:
    tree.write("/usr/local/cpanel/version", CPANEL_VERSION)
    tree.write("/etc/trueuserdomains", "".join(f"{a.domain}: {a.user}\n" for a in accounts))
    tree.write("/etc/userdomains", _userdomains(accounts))
    tree.write("/etc/localdomains", "".join(f"{d}\n" for a in accounts for d in _all_domains(a)))
    tree.write("/etc/passwd", _passwd(accounts))
    tree.write("/etc/group", _group(accounts))
    for account in accounts:
        write_account(tree, account)


def write_account(tree: Tree, account: Account) -> None:
    tree.write(f"/var/cpanel/users/{account.user}", _users_file(account))
    tree.write(f"/var/cpanel/userdata/{account.user}/main", _userdata_main(account))
    tree.mkdir(account.home, 0o711)
    for private in PRIVATE_DIRS:
        tree.mkdir(f"{account.home}/{private}", 0o700 if private != "mail" else 0o751)
    _write_mail(tree, account)
    _write_ftp(tree, account)
    _write_databases(tree, account)


def _all_domains(account: Account) -> list[str]:
    return [*account.domains, *account.sub_domains]


def _userdomains(accounts: Sequence[Account]) -> str:
    lines = [f"{d}: {a.user}\n" for a in accounts for d in _all_domains(a)]
    return "".join(lines) + "*: nobody\n"


def _passwd(accounts: Sequence[Account]) -> str:
    lines = [
        "root:x:0:0:root:/root:/bin/bash\n",
        "mailnull:x:47:47::/var/spool/mqueue:/bin/false\n",
    ]
    lines += [f"{a.user}:x:{a.uid}:{a.uid}::{a.home}:/bin/bash\n" for a in accounts]
    return "".join(lines)


def _group(accounts: Sequence[Account]) -> str:
    return "root:x:0:\nmail:x:12:\n" + "".join(f"{a.user}:x:{a.uid}:\n" for a in accounts)


def _users_file(account: Account) -> str:
    fields = {
        "BWLIMIT": "unlimited",
        "CONTACTEMAIL": account.contact,
        "DNS": account.domain,
        **{f"DNS{i}": d for i, d in enumerate(account.addon_domains, start=1)},
        "FEATURELIST": "default",
        "IP": account.ip,
        "LOCALE": "en",
        "MAXPOP": "unlimited",
        "OWNER": "root",
        "PLAN": "default",
        "RS": "jupiter",
        "STARTDATE": str(account.created),
        "SUSPENDED": "0",
        "USER": account.user,
    }
    return "".join(f"{key}={value}\n" for key, value in fields.items())


def _userdata_main(account: Account) -> str:
    subs = {a: addon_subdomain(a, account.domain) for a in account.addon_domains}
    data = {
        "addon_domains": subs,
        "main_domain": account.domain,
        "parked_domains": [],
        "sub_domains": list(account.sub_domains),
    }
    return "---\n" + yaml.safe_dump(data, default_flow_style=False, sort_keys=True)


def _write_mail(tree: Tree, account: Account) -> None:
    for domain in account.domains:
        boxes = [m for m in account.mailboxes if m.domain == domain]
        etc = f"{account.home}/etc/{domain}"
        tree.write(f"{etc}/passwd", "".join(_passwd_line(account, m.local, domain) for m in boxes))
        tree.write(
            f"{etc}/shadow",
            "".join(f"{m.local}:{m.hash}:{m.changed_day}::::::\n" for m in boxes),
            0o640,
        )
        tree.write(f"{etc}/quota", "".join(f"{m.local}:1073741824\n" for m in boxes))
        for box in boxes:
            for sub in ("cur", "new", "tmp"):
                tree.mkdir(f"{account.home}/mail/{domain}/{box.local}/{sub}", 0o751)


def _passwd_line(account: Account, local: str, domain: str) -> str:
    home = f"{account.home}/mail/{domain}/{local}"
    return f"{local}:x:{account.uid}:{account.uid}::{home}:{account.home}\n"


def _write_ftp(tree: Tree, account: Account) -> None:
    """cPanel's proftpd passwd file: one extra FTP login (the account's own is implicit)."""
    login = f"webdev@{account.domain}"
    home = f"{account.home}/public_html"
    uid, hashed = account.uid, account.mailboxes[0].hash
    line = f"{login}:{hashed}:{uid}:{uid}:{account.user}:{home}:/bin/ftpsh\n"
    tree.write(f"/etc/proftpd/{account.user}", line, 0o640)


def _write_databases(tree: Tree, account: Account) -> None:
    """cPanel's database map: each WordPress site's schema and its user."""
    sites = [s for s in account.sites if s.wordpress]
    data = {
        "MYSQL": {
            "dbs": {s.db_name: account.user for s in sites},
            "dbusers": {s.db_user: {"dbs": {s.db_name: ["ALL PRIVILEGES"]}} for s in sites},
            "owner": account.user,
        },
        "version": 1,
    }
    tree.write(f"/var/cpanel/databases/{account.user}.json", json.dumps(data, indent=2) + "\n")
