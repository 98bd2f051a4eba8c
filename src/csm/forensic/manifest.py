"""``manifest.txt``: ``key=value`` lines, the keys in the order the Go tool writes them
(``csm-go-facts.md`` §3.6), then CSM's own.  Operators and scripts read it by key
(``tar -xOzf snapshot.tar.gz manifest.txt``), so every attacker-controlled value (a path, a
schema or prefix that failed validation) is Go-``%q``-quoted: no value can hold a line break
or forge a key."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from csm.accounts.home import PRIVATE_TOP
from csm.clock import isoformat
from csm.forensic.model import (
    Capture,
    Kind,
    Manifest,
    SkippedPath,
    Status,
    Target,
    path_bytes,
)
from csm.forensic.quoting import go_quote

TOP_LEVEL_DOTFILES = "top-level dotfiles"
COUNT_KEYS = (
    "valid_target_count",
    "invalid_target_count",
    "dump_success_count",
    "dump_error_count",
    "admins_success_count",
    "admins_error_count",
    "sessions_success_count",
    "sessions_error_count",
    "recent_mtimes_status",
)
GO_KEYS = (
    "account",
    "timestamp",
    "schema_count",
    "discovery_root",
    "private_paths_excluded",
    "private_top_excluded",
    "skipped_path",
    "schema",
    "invalid_target",
    *COUNT_KEYS,
)
CSM_KEYS = (
    "window_start",
    "recent_mtimes_count",
    "mail_log_status",
    "mail_log_lines",
    "mail_queue_status",
    "queued_messages",
)


def build(
    account: str,
    timestamp: datetime,
    discovery_root: str,
    found: tuple[tuple[Target, ...], tuple[SkippedPath, ...]],
    captures: Sequence[Capture],
    window_start: datetime,
) -> Manifest:
    """The manifest of a snapshot: what was discovered, and how each capture went."""
    targets, skipped = found
    valid = sum(1 for t in targets if t.valid)
    dumped, admins, sessions = (
        _counts(captures, k) for k in (Kind.DUMP, Kind.ADMINS, Kind.SESSIONS)
    )
    return Manifest(
        account=account,
        timestamp=timestamp,
        schema_count=len(targets),
        discovery_root=discovery_root,
        private_top_excluded=private_top(),
        skipped=skipped,
        targets=targets,
        valid_target_count=valid,
        invalid_target_count=len(targets) - valid,
        dump_success_count=dumped[0],
        dump_error_count=dumped[1],
        admins_success_count=admins[0],
        admins_error_count=admins[1],
        sessions_success_count=sessions[0],
        sessions_error_count=sessions[1],
        recent_mtimes_status=_status(captures, Kind.RECENT_MTIMES),
        window_start=window_start,
        recent_mtimes_count=_total(captures, Kind.RECENT_MTIMES),
        mail_log_status=_status(captures, Kind.MAIL_LOG),
        mail_log_lines=_total(captures, Kind.MAIL_LOG),
        mail_queue_status=_status(captures, Kind.MAIL_QUEUE),
        queued_messages=_total(captures, Kind.MAIL_QUEUE),
    )


def private_top() -> tuple[str, ...]:
    return (*sorted(PRIVATE_TOP), TOP_LEVEL_DOTFILES)


def render(manifest: Manifest) -> str:
    return "".join(line + "\n" for line in lines(manifest))


def lines(m: Manifest) -> Iterator[str]:
    yield f"account={m.account}"
    yield f"timestamp={isoformat(m.timestamp)}"
    yield f"schema_count={m.schema_count}"
    yield f"discovery_root={go_quote(m.discovery_root)}"
    yield "private_paths_excluded=true"
    yield f"private_top_excluded={go_quote(','.join(m.private_top_excluded))}"
    for number, skipped in enumerate(m.skipped):
        path = go_quote(path_bytes(skipped.path, skipped.path_b64))
        yield (f"skipped_path={number} path={path} reason={go_quote(skipped.reason)}")
    yield from (_target(t) for t in m.targets)
    for key in COUNT_KEYS + CSM_KEYS:
        value = getattr(m, key)
        yield f"{key}={isoformat(value) if isinstance(value, datetime) else value}"


def keys(text: str) -> list[str]:
    """Each line's key, in order (for checking a manifest's shape)."""
    return [line.partition("=")[0] for line in text.splitlines()]


def _target(target: Target) -> str:
    if target.valid:
        return (
            f"schema={target.schema} table_prefix={target.table_prefix}"
            f" config_path={go_quote(target.config_bytes)}"
        )
    return (
        f"invalid_target={target.number} schema={go_quote(target.schema)}"
        f" table_prefix={go_quote(target.table_prefix)}"
    )


def _counts(captures: Sequence[Capture], kind: Kind) -> tuple[int, int]:
    ok = sum(1 for c in captures if c.kind == kind and c.ok)
    failed = sum(1 for c in captures if c.kind == kind and not c.ok)
    return ok, failed


def _status(captures: Sequence[Capture], kind: Kind) -> Status:
    mine = [c for c in captures if c.kind == kind]
    if not mine:
        return Status.DISABLED
    return Status.OK if all(c.ok for c in mine) else Status.ERROR


def _total(captures: Sequence[Capture], kind: Kind) -> int:
    return sum(c.count for c in captures if c.kind == kind)
