"""What a simulated host holds, chosen deterministically from a seed."""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass

ACCOUNT_POOL = (
    "acmeco",
    "bluefin",
    "cedarlaw",
    "dunesurf",
    "elmbakery",
    "fjordtech",
    "granite",
    "harborinn",
    "ironleaf",
    "junipr",
    "kestrel",
    "lumenart",
)
MAILBOX_POOL = ("info", "sales", "billing", "office", "support", "jane", "tomas", "maria")
FIRST_UID = 1001
BASE_EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z: accounts are created after this
SALT = string.ascii_letters + string.digits + "./"


@dataclass(frozen=True, slots=True)
class Mailbox:
    local: str
    domain: str
    hash: str
    changed_day: int

    @property
    def address(self) -> str:
        return f"{self.local}@{self.domain}"


@dataclass(frozen=True, slots=True)
class Site:
    docroot: str  # relative to the home, e.g. "public_html"
    domain: str
    wordpress: bool
    db_name: str
    db_user: str
    db_password: str


@dataclass(frozen=True, slots=True)
class Account:
    user: str
    uid: int
    domain: str
    addon_domains: tuple[str, ...]
    sub_domains: tuple[str, ...]
    contact: str
    created: int
    ip: str
    mailboxes: tuple[Mailbox, ...]
    sites: tuple[Site, ...]

    @property
    def home(self) -> str:
        return f"/home/{self.user}"

    @property
    def domains(self) -> tuple[str, ...]:
        return (self.domain, *self.addon_domains)


def plan(seed: int, count: int = 3, tag: str = "000") -> tuple[Account, ...]:
    """The accounts of a host.  ``tag`` (three hex digits of the host's root) is in every
    database and database user name: hosts built from one seed in two directories share one
    MariaDB without sharing names."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not secrets
    users = sorted(rng.sample(ACCOUNT_POOL, count))
    return tuple(_account(rng, user, FIRST_UID + i, tag) for i, user in enumerate(users))


def host_tag(root: str) -> str:
    """Three hex digits naming a host by its root directory."""
    return hashlib.sha256(root.encode()).hexdigest()[:3]


def _account(rng: random.Random, user: str, uid: int, tag: str) -> Account:
    domain = f"{user}.test"
    addons = (f"{user}-shop.test",) if rng.random() < 0.5 else ()
    subs = (f"blog.{domain}", *(addon_subdomain(a, domain) for a in addons))
    boxes = tuple(_mailbox(rng, local, d) for d in (domain, *addons) for local in _locals(rng))
    sites: tuple[Site, ...] = (
        _site(rng, user, tag, "public_html", domain, wordpress=rng.random() < 0.8),
    )
    sites += tuple(_site(rng, user, tag, a, a, wordpress=True) for a in addons)
    created = BASE_EPOCH + rng.randrange(0, 300) * 86400
    ip = f"192.0.2.{10 + uid - FIRST_UID}"
    return Account(user, uid, domain, addons, subs, f"owner@{domain}", created, ip, boxes, sites)


def addon_subdomain(addon: str, main: str) -> str:
    """cPanel parks an addon domain on a subdomain of the main one: ``acmecoshop.acmeco.test``."""
    return f"{addon.split('.', maxsplit=1)[0].replace('-', '')}.{main}"


def _locals(rng: random.Random) -> list[str]:
    return sorted(rng.sample(MAILBOX_POOL, rng.randint(2, 4)))


def _mailbox(rng: random.Random, local: str, domain: str) -> Mailbox:
    salt = "".join(rng.choices(SALT, k=16))
    digest = "".join(rng.choices(SALT, k=86))
    return Mailbox(local, domain, f"$6${salt}${digest}", 20_089 + rng.randrange(0, 300))


def _site(
    rng: random.Random, user: str, tag: str, docroot: str, domain: str, *, wordpress: bool
) -> Site:
    number = rng.randrange(100, 999) % 90 + 10  # two digits: at most 16 characters, as cPanel
    name = f"{user[:8]}_wp{tag}{number}"
    password = "".join(rng.choices(string.ascii_letters + string.digits, k=20))
    return Site(docroot, domain, wordpress, name, name, password)
