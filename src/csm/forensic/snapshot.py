"""``csm forensic-snapshot <account> --out <archive.tar.gz>``: preserve the evidence of an
account before anything is changed (runbook step 3; format: ``csm-go-facts.md`` §3.6).

Read-only towards the account: its home is walked (never followed through symlinks), its
WordPress databases are dumped and queried, and, with ``with_mail``, the mail log and queue
are read.  A capture that fails becomes a ``.err`` member with the error text; the snapshot
still completes, and the manifest counts the failures.  The archive is the same bytes for the
same inputs (:mod:`csm.forensic.archive`), written atomically beside a ``sha256sum -c``
sidecar, never over an earlier snapshot (unless forced) and never inside the homes."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from csm import atomic, identifiers, mysql
from csm.accounts.cpanel import users as cpanel_users
from csm.accounts.ownership import DatabaseOwners
from csm.clock import Clock
from csm.errors import CsmError, NotFoundError, UsageError
from csm.forensic import archive, destination, dump, manifest, mtimes, targets
from csm.forensic import mail as mailbox
from csm.forensic.mail import MailSources
from csm.forensic.model import Capture, Kind, Listing, SnapshotResult, Target, window
from csm.forensic.quoting import go_quote
from csm.forensic.staging import MANIFEST, Staging
from csm.forensic.users import Row, Users, body
from csm.host import Host

log = logging.getLogger(__name__)
RECENT_MTIMES = "files/recent-mtimes.tsv"
MAIL_LOG = "logs/exim_mainlog.txt"
QUEUE_HEADERS = "mail/queue-headers.txt"
SCHEMA_ENTRIES = {
    Kind.DUMP: "routines.sql",
    Kind.ADMINS: "admins.tsv",
    Kind.SESSIONS: "sessions.tsv",
}
Produce = Callable[[], tuple[bytes, int]]  # a capture's body, and how many rows it holds


class Evidence(Protocol):
    """Where snapshots are recorded, and how far back an account's trouble reaches."""

    def recorded(self, result: SnapshotResult, who: str) -> None: ...

    def oldest_active(self, account: str) -> datetime | None:
        """When the account's oldest open incident began (None: it has none)."""
        ...


@dataclass
class Forensics:
    """The snapshot service.  ``database`` gives the MariaDB credentials (read when needed)."""

    host: Host
    database: mysql.Login
    clock: Clock
    mail: MailSources | None = None  # needed for ``with_mail``
    home_dir: str = "/home"  # ``paths.home_dir``
    dump_programs: Sequence[str] = dump.PROGRAMS
    dump_timeout: float = dump.TIMEOUT
    query_timeout: float = 30.0
    walk_timeout: float = mtimes.TIMEOUT
    owners: DatabaseOwners | None = None  # who owns a schema (default: cPanel's accounts)
    evidence: Evidence | None = None  # where snapshots are recorded (the incidents)

    def database_owners(self) -> DatabaseOwners:
        if self.owners is None:
            self.owners = DatabaseOwners(self.host, lambda: cpanel_users(self.host))
        return self.owners

    def snapshot(
        self,
        account: str,
        out: str | os.PathLike[str],
        *,
        with_mail: bool = False,
        since: timedelta | None = None,
        who: str = "",
        force: bool = False,
    ) -> SnapshotResult:
        """Snapshot ``account`` into ``out`` (a new file on this machine, outside the homes;
        ``force`` replaces an earlier archive and sidecar there).  ``since``: how far back
        recent files and mail go; by default :func:`window`."""
        user = identifiers.account(account)
        home = f"{self.home_dir.rstrip('/')}/{user}"
        homes = destination.Homes(
            self.host.path(home), home, self.host.path(self.home_dir), self.home_dir
        )
        path = destination.checked(out, homes, force=force)
        now = self.clock.now().replace(microsecond=0)
        if since is None:
            oldest = self.evidence.oldest_active(user) if self.evidence else None
            since = window(now, oldest)
        self._check(home, with_mail, since)
        atomic.sweep(path.parent, archive.TEMP_PREFIX)  # what a killed snapshot left
        with atomic.scratch(path.parent, archive.TEMP_PREFIX) as work:
            run = _Run(self, Staging(work), user, home, now, since)
            result = run.write(path, os.fspath(out), with_mail, force)
        if self.evidence is not None:
            self.evidence.recorded(result, who)
        return result

    def _check(self, home: str, with_mail: bool, since: timedelta) -> None:
        if since <= timedelta(0):
            raise UsageError("--since must be a positive duration, e.g. 7d")
        if with_mail and self.mail is None:
            raise UsageError("--with-mail needs the mail settings (`mail:` in csm.yaml)")
        if not self.host.path(home).is_dir():
            raise NotFoundError(f"no home directory {home}", fix="csm accounts list")


@dataclass
class _Run:
    """One snapshot's captures, staged, then archived with their manifest."""

    service: Forensics
    staging: Staging
    account: str
    home: str
    now: datetime
    since: timedelta

    def write(self, path: Path, given: str, with_mail: bool, force: bool) -> SnapshotResult:
        service = self.service
        owners = service.database_owners()
        found = targets.discover(service.host, self.home, self.account, owners)
        captures = [*self._databases(found.targets), self._recent()]
        if with_mail and self.service.mail is not None:  # (checked before the run)
            captures += self._mail(self.service.mail)
        shown = manifest.build(
            self.account,
            self.now,
            self.home,
            (found.targets, found.skipped),
            captures,
            self.now - self.since,
        )
        self.staging.write(MANIFEST, manifest.render(shown).encode())
        written = archive.write(
            self.staging.members(), path, int(self.now.timestamp()), given, force=force
        )
        complete = all(c.ok for c in captures if c.kind != Kind.INVALID_TARGET)
        log.info("forensic snapshot of %s written to %s", self.account, path)
        return SnapshotResult(
            self.account,
            written.path,
            written.sidecar,
            written.sha256,
            written.size,
            self.now,
            complete,
            shown,
            tuple(captures),
        )

    def _databases(self, found: tuple[Target, ...]) -> list[Capture]:
        captures = [self._invalid(t) for t in found if not t.valid]
        valid = [t for t in found if t.valid]
        if not valid:
            return captures
        try:
            creds = self.service.database()
        except CsmError as exc:
            return captures + [
                self._capture(kind, t.schema, _entry(t.schema, kind), _failing(exc))
                for t in valid
                for kind in SCHEMA_ENTRIES
            ]
        users = Users(lambda: creds, self.service.query_timeout)
        try:
            with dump.options_file(creds) as options:
                return captures + [c for t in valid for c in self._schema(t, options, users)]
        finally:
            users.close()

    def _schema(self, target: Target, options: Path, users: Users) -> list[Capture]:
        schema, prefix, service = target.schema, target.table_prefix, self.service
        dumper = dump.Dumper(service.host, service.dump_programs, service.dump_timeout)
        produce: dict[Kind, Produce] = {
            Kind.DUMP: lambda: (dumper.dump(schema, options), 0),
            Kind.ADMINS: lambda: _rows(users.admins(schema, prefix)),
            Kind.SESSIONS: lambda: _rows(users.sessions(schema, prefix)),
        }
        return [
            self._capture(kind, schema, _entry(schema, kind), produce[kind])
            for kind in SCHEMA_ENTRIES
        ]

    def _capture(self, kind: Kind, schema: str, entry: str, produce: Produce) -> Capture:
        try:
            data, count = produce()
        except CsmError as exc:
            message = _text(exc.message)
            self.staging.write(entry + ".err", _err(message))
            return Capture(kind, entry + ".err", False, schema, error=message)
        self.staging.write(entry, data)
        return Capture(kind, entry, True, schema, count)

    def _invalid(self, target: Target) -> Capture:
        entry = f"schema/invalid-target-{target.number}.err"
        message = (
            f"{target.reason}: schema {go_quote(target.schema)} table_prefix "
            f"{go_quote(target.table_prefix)} in "
            f"{go_quote(target.config_bytes)}"
        )
        if target.detail:
            message += f": {target.detail}; not captured"
        self.staging.write(entry, _err(message))
        return Capture(Kind.INVALID_TARGET, entry, False, error=message)

    def _recent(self) -> Capture:
        real = os.fsencode(self.service.host.path(self.home))
        with self.staging.stream(RECENT_MTIMES) as out:
            listing = mtimes.recent(
                real,
                os.fsencode(self.home),
                self.now - self.since,
                out,
                timeout=self.service.walk_timeout,
            )
        return self._listed(Kind.RECENT_MTIMES, RECENT_MTIMES, listing)

    def _mail(self, sources: MailSources) -> list[Capture]:
        now = int(self.now.timestamp())
        window = (int((self.now - self.since).timestamp()), now)
        with self.staging.stream(MAIL_LOG) as out:
            lines = mailbox.log_lines(sources, self.account, self.home, window, out)
        with self.staging.stream(QUEUE_HEADERS) as out:
            queued = mailbox.queue_headers(sources, self.account, now, out)
        return [
            self._listed(Kind.MAIL_LOG, MAIL_LOG, lines),
            self._listed(Kind.MAIL_QUEUE, QUEUE_HEADERS, queued),
        ]

    def _listed(self, kind: Kind, entry: str, listing: Listing) -> Capture:
        """A listing keeps what it read; its errors go beside it, in ``<entry>.err``."""
        if not listing.errors:
            return Capture(kind, entry, True, count=listing.count)
        message = _text("\n".join(listing.errors))
        self.staging.write(entry + ".err", _err(message))
        return Capture(kind, entry + ".err", False, count=listing.count, error=message)


def _entry(schema: str, kind: Kind) -> str:
    return f"schema/{schema}-{SCHEMA_ENTRIES[kind]}"


def _rows(rows: list[Row]) -> tuple[bytes, int]:
    return body(rows), len(rows)


def _failing(exc: CsmError) -> Produce:
    def produce() -> tuple[bytes, int]:
        raise exc

    return produce


def _text(message: str) -> str:
    """An error text safe for JSON and terminals (undecodable bytes shown as escapes)."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def _err(message: str) -> bytes:
    return message.encode("utf-8") + b"\n"
