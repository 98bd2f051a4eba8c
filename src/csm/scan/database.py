"""Database checks for an account's WordPress schemas (``csm-go-facts.md`` §5.2-5.3): triggers,
events, procedures and functions whose bodies match the rule pack (CRITICAL), any other object
in a CMS schema (WARNING: vanilla WordPress ships none), rogue administrators, throwaway admin
addresses, and a hijacked ``siteurl``/``home``.  Nothing is changed: this only reads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pymysql

from csm import identifiers, mysql
from csm.accounts.model import Account, ForeignDatabase, WordPressSite
from csm.config.scanrules import DatabaseRules
from csm.errors import CsmError
from csm.incidents.model import Finding, Severity

OBJECTS = (
    (
        "trigger",
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT"
        " FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s",
    ),
    (
        "event",
        "SELECT EVENT_NAME, '', EVENT_DEFINITION"
        " FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s",
    ),
    (
        "routine",
        "SELECT ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION"
        " FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s",
    ),
)
SCRIPT_SRC = re.compile(r"<script[^>]*\bsrc\s*=\s*['\"]?(?:https?:)?//([^/'\" >]+)", re.I)
EXCERPT = 240


@dataclass(frozen=True, slots=True)
class DbObject:
    account: str
    schema: str
    kind: str  # "trigger", "event", "procedure", "function"
    name: str
    table: str  # a trigger's table
    verdict: str  # "malicious", "unexpected", "allowed"
    reasons: tuple[str, ...]
    excerpt: str  # the body's first 240 characters


@dataclass
class DbScan:
    objects: list[DbObject] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    schemas: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what could not be examined


SUSPECT_ADMIN_CHECKS = frozenset(
    ("db_rogue_admin", "db_magic_token_user", "db_suspicious_admin_email")
)


@dataclass
class DatabaseCheck:
    database: mysql.Login
    rules: DatabaseRules
    now: datetime
    timeout: float = 10.0
    objects: bool = True  # triggers, events, routines ("database")
    content: bool = True  # administrators and site URLs ("wordpress")

    def suspicious_admins(self, account: Account) -> set[tuple[str, str]]:
        """``(schema, login)`` of the account's WordPress administrators this check finds
        rogue, magic-token or throwaway-address ones."""
        return {
            (str(f.details["schema"]), str(f.details["login"]))
            for f in self.run(account).findings
            if f.check in SUSPECT_ADMIN_CHECKS and "login" in f.details
        }

    def run(self, account: Account) -> DbScan:
        scan = DbScan()
        scan.findings += [_foreign_finding(account.user, f, self.now) for f in account.foreign]
        for site in account.sites:
            try:
                self._site(account, site, scan)
            except (CsmError, pymysql.MySQLError) as exc:
                scan.errors.append(f"{site.db_name}: {getattr(exc, 'message', exc)}")
        return scan

    def _site(self, account: Account, site: WordPressSite, scan: DbScan) -> None:
        conn = mysql.connect(self.database(), self.timeout, database=site.db_name)
        try:
            with conn.cursor() as cursor:
                found = [self._object(account, site, row) for row in _objects(cursor, site)]
                if self.objects:
                    scan.objects += found
                    scan.findings += [
                        _object_finding(o, self.now) for o in found if o.verdict != "allowed"
                    ]
                if self.content:
                    scan.findings += self._content(cursor, account, site, found)
            scan.schemas.append(site.db_name)
        finally:
            conn.close()

    def _object(self, account: Account, site: WordPressSite, row: tuple[str, ...]) -> DbObject:
        kind, name, table, body = row
        reasons = judge(body, self.rules)
        key = f"{account.user}:{site.db_name}:{kind}:{name}"
        verdict = (
            "malicious" if reasons else ("allowed" if key in self.rules.allowlist else "unexpected")
        )
        excerpt = _normalise(body)[:EXCERPT]
        return DbObject(account.user, site.db_name, kind, name, table, verdict, reasons, excerpt)

    def _content(
        self,
        cursor: pymysql.cursors.Cursor,
        account: Account,
        site: WordPressSite,
        found: list[DbObject],
    ) -> list[Finding]:
        tokens = {t for o in found for t in _tokens(o.excerpt, self.rules)}
        users = identifiers.quote_sql_identifier(f"{site.table_prefix}users")
        meta = identifiers.quote_sql_identifier(f"{site.table_prefix}usermeta")
        options = identifiers.quote_sql_identifier(f"{site.table_prefix}options")
        cursor.execute(
            f"SELECT u.user_login, u.user_email, u.user_registered, u.display_name"  # noqa: S608
            f" FROM {users} u JOIN {meta} m ON m.user_id = u.ID"
            " WHERE m.meta_key = %s AND m.meta_value LIKE %s ORDER BY u.user_registered",
            (f"{site.table_prefix}capabilities", "%administrator%"),
        )
        admins = [tuple(str(v) for v in row) for row in cursor.fetchall()]
        cursor.execute(f"SELECT min(user_registered) FROM {users}")  # noqa: S608
        row = cursor.fetchone()
        first = _when(str(row[0])) if row else None
        cursor.execute(
            f"SELECT option_name, option_value FROM {options}"  # noqa: S608
            " WHERE option_name IN ('siteurl', 'home')"
        )
        urls = [(str(name), str(value)) for name, value in cursor.fetchall()]
        where = _Where(account.user, site.config, self.now)
        results = self._admins(where, site, admins, first, tokens)
        results += _hijacks(where, site.db_name, urls)
        return results + self._injections(cursor, where, site)

    def _injections(
        self, cursor: pymysql.cursors.Cursor, where: _Where, site: WordPressSite
    ) -> list[Finding]:
        """``<script src=…>`` from a domain not in the pack's safe list, in options or posts."""
        found = []
        tables = (
            ("options", "option_name", "option_value", "db_options_injection"),
            ("posts", "ID", "post_content", "db_post_injection"),
        )
        for table, key, column, check in tables:
            name = identifiers.quote_sql_identifier(f"{site.table_prefix}{table}")
            try:
                cursor.execute(
                    f"SELECT {key}, {column} FROM {name} WHERE {column} LIKE %s LIMIT 500",  # noqa: S608
                    ("%<script%",),
                )
            except pymysql.MySQLError:
                continue  # no such table in this install (a missing table is not a finding)
            for row_key, value in cursor.fetchall():
                hosts = [h for h in SCRIPT_SRC.findall(str(value)) if not _safe(h, self.rules)]
                if hosts:
                    message = f"{table} {row_key} of {site.db_name} loads a script from {hosts[0]}"
                    details = {"schema": site.db_name, table: str(row_key)}
                    found.append(where.finding(check, Severity.CRITICAL, message, details))
        return found

    def _admins(
        self,
        where: _Where,
        site: WordPressSite,
        admins: list[tuple[str, ...]],
        first: datetime | None,
        tokens: set[str],
    ) -> list[Finding]:
        found = []
        recent = self.now - timedelta(days=self.rules.rogue_admin_days)
        era = timedelta(minutes=self.rules.install_era_minutes)
        for login, email, registered, display in admins:
            at = _when(registered)
            detail = {"schema": site.db_name, "login": login, "email": email}
            if any(token in display for token in tokens):
                message = f"administrator {login} carries a magic token in {site.db_name}"
                found.append(
                    where.finding("db_magic_token_user", Severity.CRITICAL, message, detail)
                )
            elif at is None or (at >= recent and not (first and at - first <= era)):
                message = f"administrator {login} of {site.db_name} registered {registered}"
                found.append(where.finding("db_rogue_admin", Severity.CRITICAL, message, detail))
            if any(mark in email.lower() for mark in self.rules.disposable_mail):
                message = f"administrator {login} of {site.db_name} uses a throwaway address"
                found.append(
                    where.finding("db_suspicious_admin_email", Severity.HIGH, message, detail)
                )
        return found


def judge(body: str, rules: DatabaseRules) -> tuple[str, ...]:
    """Why a database object's body is malicious (nothing: it is not)."""
    text = _normalise(body).lower()
    reasons = [
        f"contains {s!r}"
        for s in (*rules.malware_substrings, *rules.persistence_substrings)
        if s.lower() in text
    ]
    reasons += [f"loads a script from {h}" for h in SCRIPT_SRC.findall(text) if not _safe(h, rules)]
    if re.search(rules.role_escalation, text, re.I | re.S):
        reasons.append("grants the administrator role")
    if re.search(rules.hash_exfiltration, text, re.I | re.S):
        reasons.append("reads password hashes")
    if _tokens(body, rules):
        reasons.append("gated on a magic token in display_name")
    return tuple(reasons)


def _safe(host: str, rules: DatabaseRules) -> bool:
    host = host.lower().split(":")[0]
    return any(host == d or host.endswith("." + d) for d in rules.safe_script_domains)


def _tokens(body: str, rules: DatabaseRules) -> set[str]:
    found = re.findall(rules.magic_token, _normalise(body), re.I)
    return {
        t
        for t in found
        if re.search(r"[a-z]", t) and re.search(r"[A-Z]", t) and re.search(r"[0-9]", t)
    }


def _objects(cursor: pymysql.cursors.Cursor, site: WordPressSite) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for kind, sql in OBJECTS:
        cursor.execute(sql, (site.db_name,))
        for name, extra, body in cursor.fetchall():
            object_kind = str(extra).lower() if kind == "routine" else kind
            table = str(extra) if kind == "trigger" else ""
            rows.append((object_kind, str(name), table, str(body or "")))
    return rows


def _hijacks(where: _Where, schema: str, urls: list[tuple[str, str]]) -> list[Finding]:
    found = []
    for name, value in urls:
        if "<script" in value.lower() or "eval(" in value.lower():
            message = f"{name} of {schema} carries script: {value[:120]}"
            details = {"schema": schema, "option": name}
            found.append(where.finding("db_siteurl_hijack", Severity.CRITICAL, message, details))
    return found


def _object_finding(found: DbObject, now: datetime) -> Finding:
    malicious = found.verdict == "malicious"
    check = f"db_{'malicious' if malicious else 'unexpected'}_{found.kind}"
    intro = "Malicious" if malicious else "Unexpected"
    message = f"{intro} {found.kind} {found.name} in {found.account}.{found.schema}"
    if found.reasons:
        message += f" ({'; '.join(found.reasons)})"
    details = {
        "schema": found.schema,
        "kind": found.kind,
        "name": found.name,
        "table": found.table,
        "body": found.excerpt,
    }
    severity = Severity.CRITICAL if malicious else Severity.WARNING
    return Finding(check, severity, message, now, account=found.account, details=details)


def _foreign_finding(account: str, found: ForeignDatabase, now: datetime) -> Finding:
    """A wp-config.php naming a database (or database user) the account does not own: not
    examined, and itself a sign of an attack on another account (or of a moved site)."""
    message = f"{found}: not examined or changed by CSM"
    details = {"kind": found.kind, "name": found.name, "owner": found.owner, "why": found.why}
    return Finding(
        "db_foreign_reference",
        Severity.HIGH,
        message,
        now,
        account=account,
        path=found.config,
        details=details,
    )


@dataclass(frozen=True, slots=True)
class _Where:
    """Who and where a content finding is about."""

    account: str
    config: str
    now: datetime

    def finding(
        self, check: str, severity: Severity, message: str, details: dict[str, str]
    ) -> Finding:
        return Finding(
            check,
            severity,
            message,
            self.now,
            account=self.account,
            path=self.config,
            details=details,
        )


def _normalise(body: str) -> str:
    return body.replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t")


def _when(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if at.year < 1971 else at.replace(tzinfo=UTC)
