"""Accounts on a host without cPanel: ``/etc/passwd`` users with a home (uid at or above
``hosting.min_uid``), their mailboxes from Dovecot passwd-files (``user@domain:{SCHEME}hash:
uid:gid::home…``, owned by the user whose uid or home they carry) and from cPanel-format
``<home>/etc/<domain>/passwd`` + ``shadow`` files, and the same WordPress discovery."""

from __future__ import annotations

import os
from dataclasses import dataclass

from csm.accounts.cpanel import lines, mailboxes, scheme
from csm.accounts.model import Account, Mailbox, Source
from csm.accounts.ownership import DatabaseOwners
from csm.accounts.wordpress import discover
from csm.host import Host

NOBODY_UID = 65534
SYSTEM_USERS = "/etc/passwd"


@dataclass(frozen=True, slots=True)
class Entry:
    user: str
    uid: int
    home: str
    source: Source


def entries(host: Host, min_uid: int) -> list[Entry]:
    """The hosting users of ``/etc/passwd``."""
    found = []
    for line in lines(host, SYSTEM_USERS):
        parts = line.text.split(":")
        if len(parts) < 7 or not parts[2].isdigit():
            continue
        uid = int(parts[2])
        if min_uid <= uid < NOBODY_UID and parts[5].startswith("/"):
            found.append(
                Entry(parts[0], uid, parts[5].rstrip("/"), Source(SYSTEM_USERS, line.number))
            )
    return found


def account(host: Host, entry: Entry, passwd_files: list[str], owners: DatabaseOwners) -> Account:
    boxes = tuple(box for path in passwd_files for box in _mailboxes(host, path, entry))
    boxes += tuple(
        box for domain in _home_domains(host, entry) for box in mailboxes(host, entry.home, domain)
    )
    domains = sorted({box.address.rpartition("@")[2] for box in boxes})
    sites, skipped = discover(host, entry.home)
    owned = owners.split(entry.user, sites)
    return Account(
        entry.user,
        "plain",
        entry.home,
        entry.uid,
        domains[0] if domains else "",
        addon_domains=tuple(domains[1:]),
        mailboxes=boxes,
        sites=owned.sites,
        databases=tuple(sorted({s.db_name for s in owned.sites})),
        db_users=tuple(sorted(set(owned.db_users))),
        skipped=tuple(skipped),
        sources=(entry.source,),
        foreign=owned.foreign,
    )


def _home_domains(host: Host, entry: Entry) -> list[str]:
    """Domains with cPanel-format mailbox files under the home (``etc/<domain>/passwd``)."""
    try:
        names = os.listdir(host.path(f"{entry.home}/etc"))
    except OSError:
        return []
    home = f"{entry.home}/etc"
    return sorted(n for n in names if "." in n and host.path(f"{home}/{n}/passwd").is_file())


def _mailboxes(host: Host, path: str, owner: Entry) -> list[Mailbox]:
    found = []
    for line in lines(host, path):
        parts = line.text.split(":")
        if len(parts) < 6 or "@" not in parts[0]:
            continue
        uid_ok = parts[2].isdigit() and int(parts[2]) == owner.uid
        home_ok = parts[5].startswith(owner.home + "/")
        if uid_ok or home_ok:
            hashed = parts[1].split("}", 1)[-1] if parts[1].startswith("{") else parts[1]
            found.append(
                Mailbox(parts[0].lower(), scheme(hashed), None, False, Source(path, line.number))
            )
    return found
