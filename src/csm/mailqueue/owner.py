"""Which hosting account a queued message belongs to, and how that was found.

In order of trust: the submitting user of line 2 of the ``-H`` file (cPanel runs a site's PHP
as the account's user), the authenticated login (its domain's owner, or an account name),
the PHP script's host (``X-PHP-Script``), and last the envelope sender's domain (which anyone
can forge, so it is only a hint)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from csm.accounts.domains import DomainMap
from csm.mailqueue.model import Brief, QueuedMessage


def resolve(message: QueuedMessage, domains: DomainMap, users: Collection[str]) -> QueuedMessage:
    """The message, its account filled in (in place: thousands are read at once)."""
    message.account, message.account_source = owner(message, domains, users)
    return message


def owner(message: QueuedMessage, domains: DomainMap, users: Collection[str]) -> tuple[str, str]:
    return owner_of(
        message.local_user, message.auth_id, message.script(), message.sender, domains, users
    )


def owner_of(
    local_user: str,
    auth_id: str,
    script: str,
    sender: str,
    domains: DomainMap,
    users: Collection[str],
) -> tuple[str, str]:
    """(account, how it was found) from a message's clues; ("", "") when none names one."""
    if local_user in users:
        return local_user, "local_user"
    if auth_id:
        login = auth_id.lower()
        found = login if login in users else domains.owner(login)
        if found:
            return found, "auth_id"
    host = script.partition("/")[0]
    if host and domains.owner(host):
        return domains.owner(host), "script"
    if sender and domains.owner(sender):
        return domains.owner(sender), "sender"
    return "", ""


class Owners:
    """The accounts of many messages: most share their clues (the same login, script or
    sender domain), so each set of clues is looked up once."""

    def __init__(self, domains: DomainMap, users: Collection[str]) -> None:
        self.domains, self.users = domains, frozenset(users)
        self._seen: dict[tuple[str, str, str, str], str] = {}

    def accounts(self, briefs: Iterable[Brief]) -> list[str]:
        """Each message's account ("" when unknown), in order."""
        found = []
        seen, domains, users = self._seen, self.domains, self.users
        for b in briefs:
            clues = (b.local_user, b.auth_id, b.script, b.sender.rpartition("@")[2])
            account = seen.get(clues)
            if account is None:
                account = owner_of(*clues, domains, users)[0]
                seen[clues] = account
            found.append(account)
        return found

    def resolve(self, message: QueuedMessage) -> QueuedMessage:
        """The message, its account filled in (see :func:`resolve`)."""
        return resolve(message, self.domains, self.users)
