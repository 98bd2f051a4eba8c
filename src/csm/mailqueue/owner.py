"""Which hosting account a queued message belongs to, and how that was found.

In order of trust: the submitting user of line 2 of the ``-H`` file (cPanel runs a site's PHP
as the account's user), the authenticated login (its domain's owner, or an account name),
the PHP script's host (``X-PHP-Script``), and last the envelope sender's domain (which anyone
can forge, so it is only a hint)."""

from __future__ import annotations

from collections.abc import Collection

from csm.accounts.domains import DomainMap
from csm.mailqueue.model import QueuedMessage
from csm.mailqueue.views import script


def resolve(message: QueuedMessage, domains: DomainMap, users: Collection[str]) -> QueuedMessage:
    """The message, its account filled in (in place: thousands are read at once)."""
    message.account, message.account_source = owner(message, domains, users)
    return message


def owner(message: QueuedMessage, domains: DomainMap, users: Collection[str]) -> tuple[str, str]:
    if message.local_user in users:
        return message.local_user, "local_user"
    if message.auth_id:
        login = message.auth_id.lower()
        found = login if login in users else domains.owner(login)
        if found:
            return found, "auth_id"
    host = script(message).partition("/")[0]
    if host and domains.owner(host):
        return domains.owner(host), "script"
    if message.sender and domains.owner(message.sender):
        return domains.owner(message.sender), "sender"
    return "", ""
