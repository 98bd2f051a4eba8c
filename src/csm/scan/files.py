"""File checks under an account's home: the YARA-X rules (``config/rules/files.yar``, plus any
configured extra rule files) over every regular file, and the path rules (``scan.files``:
PHP where uploads belong).

Private top-level directories are skipped, symlinks are never followed, and names are handled
as bytes (a name that is not UTF-8 is reported with ``path_b64``).  A file that cannot be read
makes the scan incomplete; it is never taken as clean."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path

import yara_x

from csm.accounts.home import Walk
from csm.accounts.model import Account
from csm.config.scanrules import FileRules, PathRule
from csm.errors import ConfigError
from csm.host import Host
from csm.incidents.model import Finding, Severity
from csm.jsonio import path_fields

SIZE_LIMIT = 16 << 20  # larger files are listed as not examined
PHP_SUFFIXES = (b".php", b".phtml", b".php3", b".php4", b".php5", b".php7", b".phar")


RECENT_SECONDS = 7 * 86400
RECENT_LISTED = 200


@dataclass
class FileScan:
    files: int = 0
    bytes: int = 0
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    recent_php: list[str] = field(default_factory=list)  # modified within 7 days (listed, not
    # findings: a site's own updates are not compromise)


@cache
def shipped_rules() -> str:
    return resources.files("csm.config").joinpath("rules/files.yar").read_text(encoding="utf-8")


def compile_rules(extra: tuple[str, ...] = ()) -> yara_x.Rules:
    """The shipped rules and the extra rule files, compiled once."""
    compiler = yara_x.Compiler()
    try:
        compiler.add_source(shipped_rules())
        for path in extra:
            compiler.add_source(Path(path).read_text(encoding="utf-8"))
    except (OSError, yara_x.CompileError) as exc:
        raise ConfigError(f"file rules: {exc}") from None
    return compiler.build()


@dataclass(frozen=True, slots=True)
class PathMatch:
    """A path rule, ready to test bytes paths."""

    check: str
    severity: str
    description: str
    path_contains: str
    suffixes: tuple[bytes, ...]


def path_matches(rules: FileRules) -> tuple[PathMatch, ...]:
    def ready(rule: PathRule) -> PathMatch:
        suffixes = tuple(s.lower().encode() for s in rule.suffixes)
        return PathMatch(rule.check, rule.severity, rule.description, rule.path_contains, suffixes)

    return tuple(ready(rule) for rule in rules.path_rules)


@dataclass
class FileCheck:
    host: Host
    rules: yara_x.Rules
    now: datetime
    path_rules: tuple[PathMatch, ...] = ()

    def run(self, account: Account) -> FileScan:
        scan, scanner, walk = FileScan(), yara_x.Scanner(self.rules), Walk()
        home = os.fsencode(self.host.path(account.home))
        for path in walk.files(home):
            self._file(account, home, path, scanner, scan)
        scan.errors += walk.errors
        return scan

    def _file(
        self, account: Account, home: bytes, path: bytes, scanner: yara_x.Scanner, scan: FileScan
    ) -> None:
        host_path = os.fsencode(account.home) + path[len(home) :]
        where = path_fields(host_path)
        try:
            with open(path, "rb") as stream:
                data = stream.read(SIZE_LIMIT + 1)
        except OSError as exc:
            scan.errors.append(f"{where['path']}: {exc.strerror}")
            return
        if len(data) > SIZE_LIMIT:
            scan.errors.append(f"{where['path']}: larger than {SIZE_LIMIT >> 20} MB, not read")
            return
        scan.files += 1
        scan.bytes += len(data)
        if _recent_php(path, self.now.timestamp()) and len(scan.recent_php) < RECENT_LISTED:
            scan.recent_php.append(where["path"])
        for rule in scanner.scan(data).matching_rules:
            meta = dict(rule.metadata)
            scan.findings.append(self._finding(account, where, rule.identifier, meta))
        lower = host_path.lower()
        for match in self.path_rules:
            if match.path_contains.encode() in host_path and lower.endswith(match.suffixes):
                meta = {
                    "check": match.check,
                    "severity": match.severity,
                    "description": match.description,
                }
                scan.findings.append(self._finding(account, where, match.check, meta))
                break

    def _finding(
        self, account: Account, where: dict[str, str], rule: str, meta: dict[str, object]
    ) -> Finding:
        severity = Severity[str(meta.get("severity", "HIGH"))]
        message = f"{meta.get('description', rule)}: {where['path']}"
        details = {"rule": rule, **{k: v for k, v in where.items() if k == "path_b64"}}
        return Finding(
            str(meta.get("check", rule)),
            severity,
            message,
            self.now,
            account=account.user,
            path=where["path"],
            details=details,
        )


def _recent_php(path: bytes, now: float) -> bool:
    return path.lower().endswith(PHP_SUFFIXES) and os.stat(path).st_mtime >= now - RECENT_SECONDS
