"""An account's credentials to rotate, as items with stable ids, and their state from the
records: ``cpanel:<user>``, ``ftp:<login>``, ``mailbox:<addr>``, ``wordpress:<site>:<login>``,
``mysql:<db user>``, ``secret:<file>:<kind>``.  Secret values are never read out."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import replace

from csm.accounts.home import Walk
from csm.accounts.model import Account, WordPressSite
from csm.credentials.model import Event, Item, Kind, Plan
from csm.host import Host

SECRET_NAME = re.compile(r"(?:^|_)(?:KEY|SECRET|TOKEN|PASSWORD|PASS|PWD|SALT)(?:_|$)")
ENV_NAME = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
ENV_LIMIT = 256 * 1024
ENV_DEPTH = 4
ORDER: dict[Kind, int] = {
    "cpanel": 0,
    "ftp": 1,
    "mailbox": 2,
    "wordpress": 3,
    "mysql": 4,
    "secret": 5,
}


def items(
    account: Account,
    flagged: Iterable[str],
    admins: dict[str, list[str]],
    env_secrets: Iterable[tuple[str, str]],
) -> list[Item]:
    """Every item of the account, before their state is known."""
    flagged = {m.lower() for m in flagged}
    methods = _methods(account.panel)
    found: list[Item] = []
    if account.panel == "cpanel":
        found.append(Item(f"cpanel:{account.user}", "cpanel", "cPanel account password"))
    found += [Item(f"ftp:{f.login}", "ftp", f"FTP login {f.login}") for f in account.ftp]
    found += [
        Item(f"mailbox:{m.address}", "mailbox", f"mailbox {m.address}", m.address in flagged)
        for m in account.mailboxes
    ]
    for site in account.sites:
        name = site_name(account, site)
        found += [
            Item(f"wordpress:{name}:{login}", "wordpress", f"WordPress administrator {login}")
            for login in admins.get(name, [])
        ]
    found += [Item(f"mysql:{u}", "mysql", f"database user {u}") for u in account.db_users]
    found += [
        Item(f"secret:{relative(account, s.config)}:wp-salts", "secret", "wp-config salts")
        for s in account.sites
        if s.secrets
    ]
    found += [Item(f"secret:{f}:{n}", "secret", f"{n} in {f}") for f, n in env_secrets]
    found = [_with_method(item, methods) for item in found]
    return sorted(found, key=lambda i: (not i.flagged, ORDER[i.kind], i.id))


def flag_suspects(
    account: Account, listed: list[Item], suspects: Iterable[tuple[str, str]]
) -> tuple[list[Item], list[str]]:
    """The WordPress administrators a scan finds suspicious (``(schema, login)``) flagged, and
    a note for each: such an administrator is removed, not given a new password."""
    by_schema = {site.db_name: site_name(account, site) for site in account.sites}
    suspected = {
        f"wordpress:{by_schema[s]}:{login}": (s, login) for s, login in suspects if s in by_schema
    }
    notes = [
        f"suspicious WordPress administrator {login} of {schema}: remove it (its rows are kept,"
        f" restorable): csm db remove-user {account.user} {schema} {login}"
        for schema, login in sorted(suspected.values())
    ]
    flagged = [replace(i, flagged=True) if i.id in suspected else i for i in listed]
    return sorted(flagged, key=lambda i: (not i.flagged, ORDER[i.kind], i.id)), notes


def with_state(account: Account, listed: list[Item], events: list[Event], notes: list[str]) -> Plan:
    """The plan: each item with its last rotation or deferral."""
    last = {e.item: e for e in events}
    done = []
    for item in listed:
        event = last.get(item.id)
        done.append(
            item
            if event is None
            else Item(
                item.id,
                item.kind,
                item.label,
                item.flagged,
                event.action,
                event.at,
                event.reason,
                item.method,
            )
        )
    return Plan(account.user, account.panel, tuple(done), tuple(notes))


def site_name(account: Account, site: WordPressSite) -> str:
    """A site's id in item ids: its directory under the home (``public_html``)."""
    return relative(account, site.path) or "."


def relative(account: Account, path: str) -> str:
    return path.removeprefix(account.home).lstrip("/")


def env_secrets(host: Host, account: Account) -> list[tuple[str, str]]:
    """``(file, NAME)`` for secret-looking names in ``.env`` files (names only, not values)."""
    found = []
    base = os.fsencode(host.path(account.home))
    for path in Walk(max_depth=ENV_DEPTH, wanted=lambda name: name == b".env").files(base):
        try:
            with open(path, "rb") as stream:
                text = stream.read(ENV_LIMIT).decode("utf-8", "replace")
        except OSError:
            continue
        rel = os.fsdecode(path[len(base) + 1 :])
        names = {m.group(1) for line in text.splitlines() if (m := ENV_NAME.match(line))}
        found += [(rel, n) for n in sorted(names) if SECRET_NAME.search(n.upper())]
    return found


def _methods(panel: str) -> dict[Kind, str]:
    if panel == "cpanel":
        return {
            "cpanel": "whmapi1",
            "ftp": "uapi",
            "mailbox": "uapi",
            "mysql": "uapi",
            "wordpress": "wordpress",
            "secret": "wp-config",
        }
    return {
        "cpanel": "manual",
        "ftp": "manual",
        "mailbox": "passwd-file",
        "mysql": "mysql",
        "wordpress": "wordpress",
        "secret": "wp-config",
    }


def _with_method(item: Item, methods: dict[Kind, str]) -> Item:
    method = methods[item.kind]
    if item.kind == "secret" and not item.id.endswith(":wp-salts"):
        method = "manual"  # an application key: rotated where it was issued
    return Item(item.id, item.kind, item.label, item.flagged, method=method)
