"""What CSM knows about a hosting account, and where each fact came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Panel = Literal["cpanel", "plain"]


@dataclass(frozen=True, slots=True)
class Source:
    """A host file, and the line in it (0: the file as a whole)."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class Mailbox:
    address: str
    hash_scheme: str  # "sha512-crypt", "bcrypt", "md5-crypt", "locked", "unknown"; "" no hash
    changed: date | None  # when the password was last set (the shadow file's day count)
    maildir: bool  # /home/<user>/mail/<domain>/<local>/ exists
    source: Source


@dataclass(frozen=True, slots=True)
class FtpLogin:
    login: str
    home: str
    source: Source


@dataclass(frozen=True, slots=True)
class WordPressSite:
    """A ``wp-config.php`` under the home: the site's database, never its password."""

    path: str  # the site's directory (host path)
    config: str  # its wp-config.php (host path)
    db_name: str
    db_user: str
    db_host: str
    table_prefix: str
    secrets: tuple[str, ...]  # the salt/key constants it defines (names only)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A path the WordPress discovery did not read, and why."""

    path: str
    reason: str  # "private-account-path", "missing-db-name", "invalid-schema", …


@dataclass(frozen=True, slots=True)
class InvalidSite:
    """A ``wp-config.php`` whose DB_NAME or ``$table_prefix`` is invalid, with the raw values
    as read (attacker-controlled text: quote it before showing it)."""

    config: str  # the wp-config.php (host path)
    db_name: str
    table_prefix: str
    reason: str  # "invalid-schema" or "invalid-table-prefix"


@dataclass(frozen=True, slots=True)
class ForeignDatabase:
    """A database or database user an account's ``wp-config.php`` names and the account does
    not own (:mod:`csm.accounts.ownership`): reported, never acted on."""

    config: str  # the wp-config.php (host path)
    kind: Literal["schema", "user"]
    name: str  # as the file names it (attacker-controlled text: quote it before showing it)
    owner: str  # the account that owns it, "" when nobody's
    why: str  # how the owner was decided, or why nobody owns it

    def __str__(self) -> str:
        what = "database" if self.kind == "schema" else "database user"
        owner = f"account {self.owner}" if self.owner else "no account"
        return (
            f"{self.config} names the {what} {self.name!r}, which belongs to {owner} ({self.why})"
        )


@dataclass(frozen=True, slots=True)
class Account:
    user: str
    panel: Panel
    home: str
    uid: int | None
    main_domain: str
    addon_domains: tuple[str, ...] = ()
    parked_domains: tuple[str, ...] = ()
    sub_domains: tuple[str, ...] = ()
    contact: str = ""
    plan: str = ""
    suspended: bool = False
    mailboxes: tuple[Mailbox, ...] = ()
    ftp: tuple[FtpLogin, ...] = ()
    sites: tuple[WordPressSite, ...] = ()
    databases: tuple[str, ...] = ()
    db_users: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    sources: tuple[Source, ...] = ()
    foreign: tuple[ForeignDatabase, ...] = ()  # claimed by its files, not its own

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(d for d in (self.main_domain, *self.addon_domains, *self.parked_domains) if d)


@dataclass(frozen=True, slots=True)
class Claim:
    """One source's answer to "who owns this?"."""

    account: str
    source: Source
    how: str  # "domain", "parent domain", "mailbox file", "home directory", …


@dataclass(frozen=True, slots=True)
class Mapping:
    """``csm accounts map``: the owner of a domain, address, user or path, and the evidence."""

    query: str
    kind: Literal["domain", "email", "user", "path"]
    account: str  # "" when nothing claims it, or when the claims disagree
    claims: tuple[Claim, ...] = field(default_factory=tuple)
    ambiguous: bool = False  # the sources name different accounts
