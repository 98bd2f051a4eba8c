"""``csm scan``: an account's checks, their findings recorded as incidents, and a scan result
per account for the close guard (input (c)): only a complete scan with no findings is clean,
and a check that could not examine everything makes the scan incomplete, never clean."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from csm import mysql
from csm.accounts.service import Accounts
from csm.clock import Clock
from csm.config.scanrules import DatabaseRules
from csm.errors import UsageError
from csm.incidents import repo
from csm.incidents.model import Finding, RecordResult
from csm.incidents.service import Incidents
from csm.scan.database import DatabaseCheck, DbObject

CHECKS = ("database",)


@dataclass(frozen=True, slots=True)
class AccountScan:
    account: str
    started_at: datetime
    finished_at: datetime
    checks: tuple[str, ...]
    schemas: tuple[str, ...]  # examined
    findings: tuple[Finding, ...]
    complete: bool  # everything there was to examine was examined
    clean: bool  # complete, and nothing found
    errors: tuple[str, ...]  # what could not be examined, and why
    recorded: RecordResult | None = None


@dataclass
class Scans:
    accounts: Accounts
    incidents: Incidents
    database: Callable[[], mysql.Credentials]
    rules: DatabaseRules
    clock: Clock
    timeout: float = 10.0

    def scan(self, user: str, checks: Sequence[str] = CHECKS) -> AccountScan:
        """Scan one account, record its findings and the result."""
        unknown = sorted(set(checks) - set(CHECKS))
        if unknown or not checks:
            raise UsageError(f"unknown checks: {', '.join(unknown) or '(none)'}; known: "
                             f"{', '.join(CHECKS)}")  # fmt: skip
        account = self.accounts.get(user)
        started = self.clock.now()
        result = DatabaseCheck(self.database, self.rules, started, self.timeout).run(account)
        finished = self.clock.now()
        complete = not result.errors
        clean = complete and not result.findings
        recorded = self.incidents.record(result.findings) if result.findings else None
        record = repo.ScanRecord(account.user, started, finished, complete, clean,
                                 len(result.findings), ",".join(checks))  # fmt: skip
        with self.incidents.store.transaction() as conn:
            repo.add_scan_result(conn, record)
        return AccountScan(account.user, started, finished, tuple(checks), tuple(result.schemas),
                           tuple(result.findings), complete, clean, tuple(result.errors),
                           recorded)  # fmt: skip

    def objects(self, user: str) -> list[DbObject]:
        """The account's database objects with their verdicts (``csm db objects``)."""
        account = self.accounts.get(user)
        check = DatabaseCheck(self.database, self.rules, self.clock.now(), self.timeout)
        result = check.run(account)
        if result.errors and not result.objects:
            raise UsageError(f"no schema could be read: {'; '.join(result.errors)}")
        return result.objects
