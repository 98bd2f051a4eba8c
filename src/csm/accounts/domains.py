"""Domain → account, from cPanel's ``/etc/userdomains`` (``domain: user``; ``*`` and ``nobody``
are not accounts).  Mailboxes resolve through their domain, subdomains through their parents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: the queue summary's quick path loads this module
    from csm.host import Host

USERDOMAINS = "/etc/userdomains"
NOT_ACCOUNTS = frozenset({"*", "nobody", ""})


@dataclass(frozen=True, slots=True)
class DomainMap:
    owners: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, host: Host) -> DomainMap:
        """The map from the host tree; empty when the file is missing or unreadable."""
        try:
            text = host.path(USERDOMAINS).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return cls()
        owners: dict[str, str] = {}
        for line in text.splitlines():
            pair = owner_line(line)
            if pair is not None:
                owners[pair[0]] = pair[1]
        return cls(owners)

    def owner(self, domain_or_address: str) -> str:
        """The account owning a domain (or an address's domain, or a parent domain), or ""."""
        domain = domain_or_address.rpartition("@")[2].strip().lower().rstrip(".")
        while domain:
            user = self.owners.get(domain)
            if user:
                return user
            _, _, domain = domain.partition(".")
        return ""


def owner_line(line: str) -> tuple[str, str] | None:
    """``domain: user`` from a line of ``/etc/userdomains`` or ``/etc/trueuserdomains``; None
    for a malformed line or one that names no account (``*: nobody``)."""
    domain, sep, user = line.partition(":")
    domain, user = domain.strip().lower(), user.strip()
    if not sep or domain in NOT_ACCOUNTS or user in NOT_ACCOUNTS:
        return None
    return domain, user
