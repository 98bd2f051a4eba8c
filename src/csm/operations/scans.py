"""Account scans, logs read into the incidents, forensic snapshots and account reviews, as
operations (each records into the incidents)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

from csm.app import App
from csm.forensic.model import SnapshotResult
from csm.incidents.service import Review
from csm.operations.base import Talk, Told
from csm.scan.logs import LogReport
from csm.scan.service import CHECKS, AccountScan

SCANNING, LINES = "scanning", "lines"


@dataclass(frozen=True, slots=True)
class ScanAccounts:
    """``csm scan ACCOUNT|--all``: tells ``scanning`` {account, number, total} before each."""

    name: ClassVar[str] = "scan.accounts"
    accounts: tuple[str, ...] = ()  # none: every account
    checks: tuple[str, ...] = CHECKS

    def run(self, app: App, talk: Talk) -> list[AccountScan]:
        names = list(self.accounts) or app.accounts().names()
        done = []
        with app.scans() as service:
            for number, account in enumerate(names, start=1):
                talk.tell(SCANNING, {"account": account, "number": number, "total": len(names)})
                done.append(service.scan(account, self.checks))
        return done


@dataclass(frozen=True, slots=True)
class CheckLogs:
    """``csm check-logs [--store]``: tells ``lines`` (how many so far) as it reads."""

    name: ClassVar[str] = "logs.check"
    paths: tuple[Path, ...]  # absolute: the daemon reads them
    source: str = "auto"
    since: datetime | None = None
    store: bool = False
    userdomains: Path | None = None
    progress: bool = False

    def run(self, app: App, talk: Talk) -> LogReport:
        progress = Told(talk, LINES) if self.progress else None
        return app.check_logs(
            self.paths,
            self.source,
            since=self.since,
            store=self.store,
            userdomains=self.userdomains,
            progress=progress,
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """``csm forensic-snapshot ACCOUNT --out ARCHIVE``."""

    name: ClassVar[str] = "forensic.snapshot"
    account: str
    out: Path  # absolute: the daemon writes it
    with_mail: bool = False
    since: timedelta | None = None
    force: bool = False

    def run(self, app: App, talk: Talk) -> SnapshotResult:
        with app.forensics() as service:
            return service.snapshot(
                self.account,
                self.out,
                with_mail=self.with_mail,
                since=self.since,
                who=app.operator,
                force=self.force,
            )


@dataclass(frozen=True, slots=True)
class ReviewAccount:
    """``csm accounts review USER --note``: counts for every incident of the account."""

    name: ClassVar[str] = "accounts.review"
    user: str
    note: str

    def run(self, app: App, talk: Talk) -> Review:
        account = app.accounts().get(self.user)
        with app.incidents() as service:
            return service.review_account(account.user, self.note, app.operator)
