"""Who owns a database or a database user, so that nothing an account's files name is acted on
unless that account owns it.

A ``wp-config.php`` is the customer's own file: its ``DB_NAME`` and ``DB_USER`` are claims, not
facts.  An account owns a name when

1. cPanel's database map (``/var/cpanel/databases/<user>.json``, written by cPanel, root-only)
   lists it for that account; a name another account's map lists is that account's;
2. else (``hosting.databases`` in the config on hosts without cPanel, in the same way);
3. else cPanel's prefix rule names it: ``<first 8 characters of the user>_…``, and no other
   account's prefix matches as well (two accounts sharing a prefix leave the name unowned).

System schemas (``mysql``, ``information_schema``, …) are nobody's.  A name no rule gives to
the account is *foreign*: it is reported (it is itself an attack indicator), never acted on."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from csm.accounts.model import ForeignDatabase, WordPressSite
from csm.host import Host

MAP_DIR: Final = "/var/cpanel/databases"
PREFIX_LENGTH: Final = 8  # cPanel applies the first eight characters of the user
SYSTEM_SCHEMAS: Final = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
What = Literal["schema", "user"]


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose a name is, and by which rule; ``account`` is "" when nobody's (``how`` says why)."""

    account: str
    how: str


@dataclass(frozen=True, slots=True)
class Owned:
    """An account's WordPress sites split by what it owns."""

    sites: tuple[WordPressSite, ...]  # their schema is the account's
    db_users: tuple[str, ...]  # the sites' database users the account owns
    foreign: tuple[ForeignDatabase, ...]  # names the account's files claim and do not own


@dataclass
class DatabaseOwners:
    """The ownership rules over one host; maps are read once per instance."""

    host: Host
    names: Callable[[], Sequence[str]]  # the hosting accounts
    configured: Mapping[str, Sequence[str]] = field(default_factory=dict)  # hosting.databases
    _maps: dict[str, dict[What, frozenset[str]]] = field(default_factory=dict, repr=False)
    _everyone: list[str] | None = field(default=None, repr=False)

    def listed(self, user: str, what: What) -> frozenset[str]:
        """The names cPanel's map (or the config) lists for ``user``."""
        if user not in self._maps:
            self._maps[user] = _read_map(self.host, user, self.configured.get(user, ()))
        return self._maps[user][what]

    def owner(self, name: str, what: What, claimant: str = "") -> Owner:
        """Whose ``name`` is (``claimant``, the account asking, counts among the accounts)."""
        if what == "schema" and name.lower() in SYSTEM_SCHEMAS:
            return Owner("", "a system schema")
        accounts = self._accounts(claimant)
        mapped = [user for user in accounts if name in self.listed(user, what)]
        if len(mapped) == 1:
            return Owner(mapped[0], "database map")
        if mapped:
            return Owner("", f"listed for several accounts ({', '.join(mapped)})")
        prefixed = [user for user in accounts if name.startswith(prefix(user))]
        if len(prefixed) == 1:
            return Owner(prefixed[0], "prefix")
        if prefixed:
            return Owner("", f"the prefix of several accounts ({', '.join(prefixed)})")
        return Owner("", "no account's prefix or database map")

    def owns(self, user: str, name: str, what: What) -> Owner:
        """``name``'s owner, checked quickly when the account's own map lists it."""
        if name in self.listed(user, what) and name.lower() not in SYSTEM_SCHEMAS:
            return Owner(user, "database map")
        return self.owner(name, what, user)

    def split(self, user: str, sites: Iterable[WordPressSite]) -> Owned:
        """The account's sites whose schema it owns, the database users of those it owns, and
        every foreign name, with its real owner where one is known."""
        kept, users, foreign = [], [], []
        for site in sites:
            schema = self.owns(user, site.db_name, "schema")
            if schema.account != user:
                foreign.append(_foreign(site, "schema", site.db_name, schema))
                continue
            kept.append(site)
            if site.db_user:
                login = self.owns(user, site.db_user, "user")
                if login.account == user:
                    users.append(site.db_user)
                else:
                    foreign.append(_foreign(site, "user", site.db_user, login))
        return Owned(tuple(kept), tuple(users), tuple(foreign))

    def _accounts(self, claimant: str) -> list[str]:
        if self._everyone is None:
            self._everyone = sorted({*self.names(), *self.configured})
        if claimant and claimant not in self._everyone:
            return sorted({*self._everyone, claimant})
        return self._everyone


def prefix(user: str) -> str:
    """cPanel's database prefix for ``user``."""
    return f"{user[:PREFIX_LENGTH]}_"


def read_map(host: Host, user: str) -> tuple[list[str], list[str]]:
    """cPanel's database map for the account: (databases, database users)."""
    found = _read_map(host, user, ())
    return sorted(found["schema"]), sorted(found["user"])


def _read_map(host: Host, user: str, configured: Sequence[str]) -> dict[What, frozenset[str]]:
    mysql: object = {}
    try:
        text = host.path(f"{MAP_DIR}/{user}.json").read_text(encoding="utf-8")
        mysql = json.loads(text).get("MYSQL", {})
    except (OSError, ValueError, AttributeError):
        pass
    extra = frozenset(configured)
    if not isinstance(mysql, dict):
        mysql = {}
    return {"schema": _keys(mysql.get("dbs")) | extra, "user": _keys(mysql.get("dbusers")) | extra}


def _keys(value: object) -> frozenset[str]:
    if isinstance(value, dict | list):
        return frozenset(str(name) for name in value)
    return frozenset()


def _foreign(site: WordPressSite, what: What, name: str, owner: Owner) -> ForeignDatabase:
    return ForeignDatabase(site.config, what, name, owner.account, owner.how)
