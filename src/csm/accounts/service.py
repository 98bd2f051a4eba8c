"""The hosting accounts of this host, and who owns a domain, an address, a user or a path."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from csm import identifiers
from csm.accounts import cpanel, plain
from csm.accounts.model import Account, Claim, Panel, Source
from csm.accounts.model import Mapping as OwnerMapping
from csm.accounts.ownership import DatabaseOwners
from csm.errors import NotFoundError, UsageError
from csm.host import Host

# The files account names are read from, on a cPanel host and on a plain one.
NAME_SOURCES = (cpanel.USERS_DIR, plain.SYSTEM_USERS)


@dataclass
class Accounts:
    host: Host
    panel: Panel
    passwd_files: tuple[str, ...] = ("/etc/dovecot/users",)
    min_uid: int = 1000
    databases: Mapping[str, Sequence[str]] = field(default_factory=dict)  # hosting.databases
    _owners: DatabaseOwners | None = field(default=None, init=False, repr=False)

    @property
    def owners(self) -> DatabaseOwners:
        """Who owns a database or a database user (what an account's files name is checked)."""
        if self._owners is None:
            self._owners = DatabaseOwners(self.host, self.names, self.databases)
        return self._owners

    def names(self) -> list[str]:
        if self.panel == "cpanel":
            return cpanel.users(self.host)
        return sorted(e.user for e in plain.entries(self.host, self.min_uid))

    def get(self, user: str) -> Account:
        user = identifiers.account(user)
        found = self._read(user)
        if found is None:
            raise NotFoundError(
                f"no hosting account {user!r}", fix="csm accounts list   # the accounts CSM sees"
            )
        return found

    def all(self) -> list[Account]:
        return [a for user in self.names() if (a := self._read(user)) is not None]

    def map(self, query: str) -> OwnerMapping:
        """Which account owns ``query`` (a domain, an address, a user or a path), by which
        file and line; two sources naming different accounts make it ambiguous."""
        query = query.strip()
        if not query:
            raise UsageError("nothing to map: give a domain, an address, a user or a path")
        if query.startswith("/"):
            return _decide(query, "path", self._path_claims(query))
        if "@" in query:
            return _decide(query.lower(), "email", self._email_claims(query.lower()))
        if "." in query:
            return _decide(query.lower(), "domain", self._domain_claims(query.lower()))
        return _decide(query, "user", self._user_claims(query))

    def _read(self, user: str) -> Account | None:
        if self.panel == "cpanel":
            return cpanel.account(self.host, user, cpanel.passwd_entries(self.host), self.owners)
        entry = next((e for e in plain.entries(self.host, self.min_uid) if e.user == user), None)
        if entry is None:
            return None
        return plain.account(self.host, entry, list(self.passwd_files), self.owners)

    def _domain_claims(self, domain: str) -> list[Claim]:
        domain = domain.rstrip(".")
        claims: list[Claim] = []
        for known, claim in cpanel.domain_claims(self.host):
            if domain == known:
                claims.append(claim)
            elif domain.endswith("." + known):
                claims.append(Claim(claim.account, claim.source, "parent domain"))
        if self.panel == "plain":
            claims += self._mailbox_claims(domain, local=None)
        return claims

    def _email_claims(self, address: str) -> list[Claim]:
        local, _, domain = address.rpartition("@")
        return self._domain_claims(domain) + self._mailbox_claims(domain, local)

    def _mailbox_claims(self, domain: str, local: str | None) -> list[Claim]:
        """Mailbox files that hold the address (or any mailbox of the domain)."""
        claims = []
        for account in self.all():
            for box in account.mailboxes:
                box_local, _, box_domain = box.address.rpartition("@")
                if box_domain == domain and (local is None or box_local == local):
                    claims.append(Claim(account.user, box.source, "mailbox file"))
        return claims

    def _user_claims(self, user: str) -> list[Claim]:
        claims: list[Claim] = []
        if user not in self.names():
            return claims
        if self.panel == "cpanel":
            claims.append(Claim(user, Source(f"{cpanel.USERS_DIR}/{user}"), "cPanel account"))
        for line in cpanel.lines(self.host, "/etc/passwd"):
            if line.text.split(":", 1)[0] == user:
                claims.append(Claim(user, Source("/etc/passwd", line.number), "system user"))
        return claims

    def _path_claims(self, path: str) -> list[Claim]:
        path = posixpath.normpath(path)
        names = set(self.names())
        claims = []
        owner_uid = _owner(self.host, path)
        for line in cpanel.lines(self.host, "/etc/passwd"):
            parts = line.text.split(":")
            if len(parts) < 7 or parts[0] not in names:
                continue
            home = parts[5].rstrip("/")
            source = Source("/etc/passwd", line.number)
            if home and (path == home or path.startswith(home + "/")):
                claims.append(Claim(parts[0], source, "home directory"))
            if owner_uid is not None and parts[2] == str(owner_uid):
                claims.append(Claim(parts[0], Source(path), "file owner"))
        return claims


def _decide(query: str, kind: str, claims: list[Claim]) -> OwnerMapping:
    owners = {c.account for c in claims}
    account = next(iter(owners)) if len(owners) == 1 else ""
    return OwnerMapping(query, kind, account, tuple(claims), len(owners) > 1)  # type: ignore[arg-type]


def _owner(host: Host, path: str) -> int | None:
    try:
        return os.lstat(host.path(path)).st_uid
    except (OSError, ValueError):
        return None
