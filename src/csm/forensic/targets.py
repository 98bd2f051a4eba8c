"""The databases a snapshot captures: one target per ``wp-config.php`` under the home, found
by the same discovery every check uses (private top-level paths and dotfiles skipped).  A
schema the account does not own (:mod:`csm.accounts.ownership`) is an invalid target,
``foreign-schema``: recorded in the snapshot, never dumped or queried."""

from __future__ import annotations

from dataclasses import dataclass, replace

from csm.accounts.model import ForeignDatabase, InvalidSite, Skipped, WordPressSite
from csm.accounts.ownership import DatabaseOwners
from csm.accounts.wordpress import survey
from csm.forensic.model import SkippedPath, Target, path_text
from csm.host import Host

INVALID = frozenset({"invalid-schema", "invalid-table-prefix"})


@dataclass(frozen=True, slots=True)
class Discovery:
    targets: tuple[Target, ...]  # valid and invalid, sorted by schema
    skipped: tuple[SkippedPath, ...]  # private paths, missing DB_NAME, duplicates, unreadable


def discover(host: Host, home: str, account: str, owners: DatabaseOwners) -> Discovery:
    """The targets under ``home`` (a host path) and the paths skipped, in discovery order."""
    found = survey(host, home)
    owned = owners.split(account, found.sites)
    sites = {site.config: site for site in found.sites}
    foreign = [_foreign(sites[f.config], f) for f in owned.foreign if f.kind == "schema"]
    found_targets = [_target(s) for s in owned.sites] + foreign
    found_targets += [_target(s) for s in found.invalid]
    ordered = sorted(found_targets, key=lambda t: (t.schema, t.config_path))
    skipped = tuple(_skipped(s) for s in found.skipped if s.reason not in INVALID)
    return Discovery(_numbered(ordered), skipped)


def _target(site: WordPressSite | InvalidSite) -> Target:
    path, b64 = path_text(site.config)
    reason = site.reason if isinstance(site, InvalidSite) else ""
    return Target(site.db_name, site.table_prefix, path, not reason, reason, config_path_b64=b64)


def _foreign(site: WordPressSite, found: ForeignDatabase) -> Target:
    path, b64 = path_text(site.config)
    owner = found.owner or "no account"
    return Target(
        site.db_name,
        site.table_prefix,
        path,
        False,
        "foreign-schema",
        config_path_b64=b64,
        detail=f"owned by {owner} ({found.why})",
    )


def _skipped(skipped: Skipped) -> SkippedPath:
    path, b64 = path_text(skipped.path)
    return SkippedPath(path, path_text(skipped.reason)[0], b64)


def _numbered(targets: list[Target]) -> tuple[Target, ...]:
    """Invalid targets numbered 0, 1, … in target order (their ``<i>``)."""
    numbered, count = [], 0
    for target in targets:
        if target.valid:
            numbered.append(target)
        else:
            numbered.append(replace(target, number=count))
            count += 1
    return tuple(numbered)
