"""Domain → account, from cPanel's ``/etc/userdomains`` (``domain: user``; ``*`` and ``nobody``
are not accounts).  Mailboxes resolve through their domain, subdomains through their parents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from csm.errors import UnreadableInputError

if TYPE_CHECKING:  # types only: the queue summary's quick path loads this module
    from pathlib import Path

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
            return cls.read(host.path(USERDOMAINS))
        except OSError:
            return cls()

    @classmethod
    def chosen(cls, host: Host, given: Path | None, *, on_host: bool) -> DomainMap:
        """The ``given`` file's map (an operator's copy of ``/etc/userdomains``); else the
        host's own, when CSM runs ``on_host``; else none (a log checked on a laptop: its
        domains are nobody's known accounts)."""
        if given is not None:
            try:
                return cls.read(given)
            except OSError as exc:
                raise UnreadableInputError(f"cannot read {given}: {exc.strerror}") from None
        return cls.load(host) if on_host else cls()

    @classmethod
    def read(cls, path: Path) -> DomainMap:
        """The map in a ``domain: user`` file (a copy of ``/etc/userdomains``); OSError when
        it cannot be read."""
        text = path.read_text(encoding="utf-8", errors="replace")
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
