"""WordPress installs under a home: every ``wp-config.php`` outside the private top-level
directories (``../shared/reference/csm-go-facts.md`` §3.6), with its database settings.

``wp-config.php`` is PHP, and is never executed: ``define( 'NAME', 'value' )`` lines and
``$table_prefix`` are read with a pattern.  The database password is not kept."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from csm.accounts.home import Walk
from csm.accounts.model import InvalidSite, Skipped, WordPressSite
from csm.host import Host

SALT_KEYS = (
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
)
SCHEMA = re.compile(r"[A-Za-z0-9_@]+")
PREFIX = re.compile(r"[A-Za-z0-9_]+")
DEFINE = re.compile(
    r"""define\s*\(\s*(['"])(?P<name>[A-Z_]+)\1\s*,\s*(['"])(?P<value>(?:\\.|(?!\3).)*)\3\s*\)""",
    re.DOTALL,  # a PHP string may span lines
)
TABLE_PREFIX = re.compile(r"""\$table_prefix\s*=\s*(['"])(?P<value>[^'"]*)\1""")
CONFIG_LIMIT = 1 << 20  # a wp-config.php larger than this is not read
MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Survey:
    """What :func:`survey` found under a home."""

    sites: list[WordPressSite]  # ordered by depth, then path
    skipped: list[Skipped]  # every path not read as a site, and why (invalid configs too)
    invalid: list[InvalidSite]  # the configs skipped as invalid-schema/-table-prefix, raw


def discover(host: Host, home: str) -> tuple[list[WordPressSite], list[Skipped]]:
    """The sites under ``home`` (ordered by depth, then path) and what was skipped, and why."""
    found = survey(host, home)
    return found.sites, found.skipped


def survey(host: Host, home: str) -> Survey:
    """:func:`discover`, plus the raw DB_NAME and ``$table_prefix`` of each invalid config."""
    found = Survey([], [], [])
    seen: set[str] = set()
    for config in sorted(
        _configs(host.path(home), home, found.skipped), key=lambda p: (p.count("/"), p)
    ):
        site = _read(host, config)
        if isinstance(site, InvalidSite):
            found.invalid.append(site)
            found.skipped.append(Skipped(config, site.reason))
        elif isinstance(site, Skipped):
            found.skipped.append(site)
        elif site.db_name in seen:
            found.skipped.append(Skipped(config, "duplicate-schema"))
        else:
            seen.add(site.db_name)
            found.sites.append(site)
    return found


def defines(text: str) -> dict[str, str]:
    """Every ``define('NAME', 'value')`` with a quoted value (the last one wins)."""
    return {m.group("name"): _unescape(m.group("value")) for m in DEFINE.finditer(text)}


def _configs(root: Path, home: str, skipped: list[Skipped]) -> list[str]:
    """wp-config.php files under the home (host paths); private top-level entries skipped."""
    base = os.fsencode(root)
    walk = Walk(max_depth=MAX_DEPTH, wanted=lambda name: name == b"wp-config.php")
    found = [home + os.fsdecode(path[len(base) :]) for path in walk.files(base)]
    skipped += [
        Skipped(home + os.fsdecode(path[len(base) :]), "private-account-path")
        for path in walk.skipped
    ]
    return found


def _read(host: Host, config: str) -> WordPressSite | InvalidSite | Skipped:
    try:
        with host.path(config).open("rb") as stream:
            text = stream.read(CONFIG_LIMIT).decode("utf-8", "replace")
    except OSError as exc:
        return Skipped(config, f"unreadable: {exc.strerror}")
    found = defines(text)
    prefix_match = TABLE_PREFIX.search(text)
    prefix = prefix_match.group("value") if prefix_match else "wp_"
    name = found.get("DB_NAME", "")
    if not name:
        return Skipped(config, "missing-db-name")
    if not SCHEMA.fullmatch(name):
        return InvalidSite(config, name, prefix, "invalid-schema")
    if not PREFIX.fullmatch(prefix):
        return InvalidSite(config, name, prefix, "invalid-table-prefix")
    secrets = tuple(key for key in SALT_KEYS if key in found)
    directory = config.rpartition("/")[0]
    user, db_host = found.get("DB_USER", ""), found.get("DB_HOST", "localhost")
    return WordPressSite(directory, config, name, user, db_host, prefix, secrets)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)
