"""``csm scan``: an account's checks, their findings recorded as incidents, and a scan result
per account for the close guard (input (c)): only a complete scan with no findings is clean,
and a check that could not examine everything makes the scan incomplete, never clean."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import yara_x

from csm import mysql
from csm.accounts.service import Accounts
from csm.clock import Clock
from csm.config.scanrules import DatabaseRules, FileRules, default_file_rules
from csm.errors import CsmError, UsageError
from csm.host import Host
from csm.incidents.model import Finding, RecordResult
from csm.incidents.service import Incidents
from csm.scan.database import DatabaseCheck, DbObject
from csm.scan.files import FileCheck, compile_rules, path_matches
from csm.scan.repo import ScanRecord, add_scan_result

if TYPE_CHECKING:
    from csm.response.quarantine import Quarantine

CHECKS = ("files", "database", "wordpress")
AUTO_QUARANTINE = frozenset({"webshell", "obfuscated_php", "php_in_uploads", "phishing_kit"})


@dataclass(frozen=True, slots=True)
class AccountScan:
    account: str
    started_at: datetime
    finished_at: datetime
    checks: tuple[str, ...]
    schemas: tuple[str, ...]  # examined
    files: int  # examined
    recent_php: tuple[str, ...]  # PHP modified within 7 days (for the operator's review)
    findings: tuple[Finding, ...]
    complete: bool  # everything there was to examine was examined
    clean: bool  # complete, and nothing found
    errors: tuple[str, ...]  # what could not be examined, and why
    recorded: RecordResult | None = None
    quarantined: tuple[str, ...] = ()  # by auto_response: the quarantine ids


@dataclass
class Scans:
    host: Host
    accounts: Accounts
    incidents: Incidents
    database: mysql.Login
    rules: DatabaseRules
    clock: Clock
    timeout: float = 10.0
    extra_rules: tuple[str, ...] = ()  # more YARA-X rule files
    quarantine: Quarantine | None = None  # set when auto_response.quarantine_files is on
    file_paths: FileRules = field(default_factory=default_file_rules)
    _compiled: yara_x.Rules | None = field(default=None, init=False, repr=False)

    def file_rules(self) -> yara_x.Rules:
        """Compiled once per service (``--all`` scans every account with the same rules)."""
        if self._compiled is None:
            self._compiled = compile_rules(self.extra_rules)
        return self._compiled

    def scan(self, user: str, checks: Sequence[str] = CHECKS) -> AccountScan:
        """Scan one account, record its findings and the result."""
        unknown = sorted(set(checks) - set(CHECKS))
        if unknown or not checks:
            raise UsageError(
                f"unknown checks: {', '.join(unknown) or '(none)'}; known: {', '.join(CHECKS)}"
            )
        account = self.accounts.get(user)
        started = self.clock.now()
        findings: list[Finding] = []
        errors: list[str] = []
        schemas: list[str] = []
        files, recent = 0, []
        if "files" in checks:
            paths = path_matches(self.file_paths)
            found = FileCheck(self.host, self.file_rules(), started, paths).run(account)
            findings, errors, files, recent = (
                found.findings,
                found.errors,
                found.files,
                found.recent_php,
            )
        if "database" in checks or "wordpress" in checks:
            kinds = ("database" in checks, "wordpress" in checks)
            check = DatabaseCheck(self.database, self.rules, started, self.timeout, *kinds)
            db = check.run(account)
            findings, errors, schemas = findings + db.findings, errors + db.errors, db.schemas
        finished = self.clock.now()
        complete = not errors
        clean = complete and not findings
        recorded = self.incidents.record(findings) if findings else None
        record = ScanRecord(
            account.user, started, finished, complete, clean, len(findings), ",".join(checks)
        )
        with self.incidents.store.transaction() as conn:
            add_scan_result(conn, record)
        quarantined = self._respond(findings) if complete else ()
        return AccountScan(
            account.user,
            started,
            finished,
            tuple(checks),
            tuple(schemas),
            files,
            tuple(recent),
            tuple(findings),
            complete,
            clean,
            tuple(errors),
            recorded,
            quarantined,
        )

    def _respond(self, findings: list[Finding]) -> tuple[str, ...]:
        """With ``auto_response.quarantine_files`` on, and only after a complete scan: the
        files found quarantined (the quarantine ids)."""
        if self.quarantine is None:
            return ()
        paths = dict.fromkeys(f.path for f in findings if f.check in AUTO_QUARANTINE and f.path)
        done = []
        for path in paths:
            try:
                done.append(self.quarantine.put(path, "auto_response", "csm:auto").id)
            except CsmError:
                continue  # left where it is; the finding stays open
        return tuple(done)

    def objects(self, user: str) -> list[DbObject]:
        """The account's database objects with their verdicts (``csm db objects``)."""
        account = self.accounts.get(user)
        check = DatabaseCheck(self.database, self.rules, self.clock.now(), self.timeout)
        result = check.run(account)
        if result.errors and not result.objects:
            raise UsageError(f"no schema could be read: {'; '.join(result.errors)}")
        return result.objects
