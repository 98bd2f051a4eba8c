"""cPanel's own files, read from the host tree: ``/etc/trueuserdomains``, ``/etc/userdomains``,
``/var/cpanel/users/<user>``, ``/var/cpanel/userdata/<user>/main``, the mailbox ``passwd`` and
``shadow`` files under the home, ``/etc/proftpd/<user>`` (or pure-ftpd), and cPanel's database
map (:mod:`csm.accounts.ownership`).  Malformed lines are skipped; hashes are never kept,
only their scheme and age."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta

import yaml

from csm import identifiers
from csm.accounts.domains import owner_line
from csm.accounts.model import Account, Claim, FtpLogin, Mailbox, Source
from csm.accounts.ownership import DatabaseOwners, read_map
from csm.accounts.wordpress import discover
from csm.errors import InvalidIdentifierError
from csm.host import Host

USERS_DIR = "/var/cpanel/users"
DOMAIN_FILES = ("/etc/trueuserdomains", "/etc/userdomains")
NOT_ACCOUNTS = frozenset({"*", "nobody", "", "root", "system"})
FTP_FILES = ("/etc/proftpd/{user}", "/etc/pure-ftpd/{user}")
EPOCH = date(1970, 1, 1)
SCHEMES = (
    ("$6$", "sha512-crypt"),
    ("$5$", "sha256-crypt"),
    ("$1$", "md5-crypt"),
    ("$2", "bcrypt"),
    ("$y$", "yescrypt"),
    ("{", "dovecot-scheme"),
)


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    text: str


def lines(host: Host, path: str) -> list[Line]:
    """A host file's lines, numbered from 1; none when it is missing or unreadable."""
    try:
        text = host.path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [Line(n, line) for n, line in enumerate(text.splitlines(), start=1)]


def users(host: Host) -> list[str]:
    """The accounts with a ``/var/cpanel/users/<user>`` file (valid names only), sorted."""
    try:
        names = os.listdir(host.path(USERS_DIR))
    except OSError:
        return []
    return sorted(name for name in names if _valid(name) and name not in NOT_ACCOUNTS)


def domain_claims(host: Host) -> list[tuple[str, Claim]]:
    """``(domain, claim)`` for every ``domain: user`` line of the domain files."""
    found: list[tuple[str, Claim]] = []
    for path in DOMAIN_FILES:
        for line in lines(host, path):
            pair = owner_line(line.text)
            if pair is not None and pair[1] not in NOT_ACCOUNTS:
                found.append((pair[0], Claim(pair[1], Source(path, line.number), "domain")))
    return found


def account(
    host: Host, user: str, passwd: dict[str, tuple[int, str]], owners: DatabaseOwners
) -> Account | None:
    """The account as cPanel's files describe it; None when it has no users file.  Its sites
    are those whose database it owns (the others are ``foreign``)."""
    user = identifiers.account(user)
    fields = _key_values(host, f"{USERS_DIR}/{user}")
    if not fields:
        return None
    data = _userdata(host, user)
    main = str(data.get("main_domain") or fields.get("DNS", "")).lower()
    addons, parked, subs = (
        _names(data.get(key)) for key in ("addon_domains", "parked_domains", "sub_domains")
    )
    uid, home = passwd.get(user, (None, f"/home/{user}"))
    domains = tuple(d for d in (main, *addons, *parked) if d)
    sites, skipped = discover(host, home)
    owned = owners.split(user, sites)
    dbs, db_users = read_map(host, user)
    return Account(
        user,
        "cpanel",
        home,
        uid,
        main,
        addons,
        parked,
        subs,
        contact=fields.get("CONTACTEMAIL", ""),
        plan=fields.get("PLAN", ""),
        suspended=fields.get("SUSPENDED", "0") not in ("0", ""),
        mailboxes=tuple(m for d in domains for m in mailboxes(host, home, d)),
        ftp=ftp_logins(host, user),
        sites=owned.sites,
        databases=tuple(sorted({*dbs, *(s.db_name for s in owned.sites)})),
        db_users=tuple(sorted({*db_users, *owned.db_users})),
        skipped=tuple(skipped),
        sources=(Source(f"{USERS_DIR}/{user}"), Source(f"/var/cpanel/userdata/{user}/main")),
        foreign=owned.foreign,
    )


def passwd_entries(host: Host) -> dict[str, tuple[int, str]]:
    """``/etc/passwd``: user → (uid, home)."""
    found: dict[str, tuple[int, str]] = {}
    for line in lines(host, "/etc/passwd"):
        parts = line.text.split(":")
        if len(parts) >= 7 and parts[2].isdigit():
            found.setdefault(parts[0], (int(parts[2]), parts[5]))
    return found


def mailboxes(host: Host, home: str, domain: str) -> list[Mailbox]:
    """The mailboxes of ``domain`` in ``<home>/etc/<domain>/passwd``, with their hash's
    scheme and age from ``shadow`` (the hash itself is not kept)."""
    if not _valid_domain(domain):
        return []
    base = f"{home}/etc/{domain}"
    shadow = {
        parts[0]: parts
        for line in lines(host, f"{base}/shadow")
        if len(parts := line.text.split(":")) >= 2
    }
    found = []
    for line in lines(host, f"{base}/passwd"):
        local = line.text.split(":", 1)[0].strip()
        if not _safe(local) or line.text.count(":") < 2:
            continue  # a malformed line
        entry = shadow.get(local, [])
        maildir = host.path(f"{home}/mail/{domain}/{local}").is_dir()
        found.append(
            Mailbox(
                f"{local}@{domain}",
                scheme(entry[1]) if len(entry) > 1 else "",
                _changed(entry[2]) if len(entry) > 2 else None,
                maildir,
                Source(f"{base}/passwd", line.number),
            )
        )
    return found


def ftp_logins(host: Host, user: str) -> tuple[FtpLogin, ...]:
    for template in FTP_FILES:
        path = template.format(user=user)
        found = [
            FtpLogin(parts[0], parts[5], Source(path, line.number))
            for line in lines(host, path)
            if len(parts := line.text.split(":")) >= 7 and parts[0]
        ]
        if found:
            return tuple(found)
    return ()


def scheme(hashed: str) -> str:
    """The scheme of a crypt(3)-style hash, for display ("locked" for ``!``/``*``)."""
    if not hashed or hashed[0] in "!*":
        return "locked"
    for prefix, name in SCHEMES:
        if hashed.startswith(prefix):
            return name
    return "unknown"


def _changed(days: str) -> date | None:
    try:
        return EPOCH + timedelta(days=int(days))
    except (ValueError, OverflowError):
        return None


def _key_values(host: Host, path: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines(host, path):
        key, sep, value = line.text.partition("=")
        if sep and key.strip():
            found[key.strip()] = value.strip()
    return found


def _userdata(host: Host, user: str) -> dict[str, object]:
    try:
        text = host.path(f"/var/cpanel/userdata/{user}/main").read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _names(value: object) -> tuple[str, ...]:
    """Domain names from a userdata list or mapping (its keys)."""
    if not isinstance(value, dict | list):
        return ()
    return tuple(sorted(str(name).lower() for name in value))


def _valid(name: str) -> bool:
    try:
        identifiers.account(name)
    except InvalidIdentifierError:
        return False
    return True


def _valid_domain(domain: str) -> bool:
    return bool(domain) and "/" not in domain and not domain.startswith(".")


def _safe(part: str) -> bool:
    """A mailbox's local part as a path component: printable, no slash, not . or .."""
    return (
        0 < len(part) <= 64 and part.isprintable() and "/" not in part and part not in (".", "..")
    )
