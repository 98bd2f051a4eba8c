"""The configuration model: every setting, its default (those of a real cPanel host) and meaning.

This model is the single source for validation, ``csm config show`` and ``docs/config.md``.
Host paths are absolute paths *on the host* and are resolved under ``paths.root``; executables
(``*_bin``) are programs on this machine and are used as given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo

from csm import duration
from csm.config.citadel import CitadelConfig
from csm.config.fields import Duration, DurationOrOff, HostPath, Listen, Port, Section
from csm.config.incidents import IncidentsConfig
from csm.config.mailrules import MailRules, default_rules
from csm.config.queuerules import QueueRules, default_queue_rules
from csm.config.response import EmergencyConfig, FirewallConfig
from csm.config.scanrules import (
    DatabaseRules,
    FileRules,
    default_database_rules,
    default_file_rules,
)


class PathsConfig(Section):
    root: HostPath = Field(
        "/", description="Root of the host tree; every host path is resolved under it."
    )
    state_dir: HostPath = Field(
        "/var/lib/csm/state",
        description="State directory: `csm.db`, `csm.lock`, the spool index `queue-index`.",
    )
    log_dir: HostPath = Field(
        "/var/log/csm", description="CSM's logs, including the audit log `audit.jsonl`."
    )
    quarantine_dir: HostPath = Field(
        "/opt/csm/quarantine", description="Where quarantined files and messages are kept."
    )
    control_socket: HostPath = Field(
        "/var/run/csm/control.sock", description="The daemon's control socket."
    )
    home_dir: HostPath = Field(
        "/home", description="Directory holding the hosting accounts' homes."
    )


class MailConfig(Section):
    mta: Literal["exim", "citadel", "postfix", "none"] = Field(
        "exim", description="The mail server: `exim`, `citadel`, `postfix` or `none`."
    )
    exim_bin: str = Field("/usr/sbin/exim", description="The Exim executable.")
    exim_config: HostPath | None = Field(
        None, description="Exim runtime config passed as `-C` when set."
    )
    exim_mainlog: HostPath = Field("/var/log/exim_mainlog", description="Exim's main log.")
    maillog: HostPath = Field(
        "/var/log/maillog", description="Dovecot/Postfix log (`/var/log/mail.log` on Debian)."
    )
    exim_spool: HostPath = Field("/var/spool/exim", description="Exim's spool directory.")
    command_timeout: float = Field(
        30.0, gt=0, description="Seconds before an Exim command is abandoned."
    )
    high_volume_senders: list[str] = Field(
        default_factory=list,
        description="Mailboxes or domains that send in bulk by right: never flagged for volume.",
    )
    infra_ips: list[str] = Field(
        default_factory=list, description="IPs and CIDRs of our own infrastructure: never counted."
    )
    log_year: int | None = Field(
        None, description="Year for syslog lines (which carry none); unset: the log file's year."
    )
    rules: MailRules = Field(
        default_factory=default_rules,
        description="Mail detection thresholds and patterns (shipped pack: `rules/mail.yaml`).",
    )
    queue_review: QueueRules = Field(
        default_factory=default_queue_rules,
        description="How `csm queue review` groups queued mail (shipped pack: `rules/queue.yaml`).",
    )
    emergency: EmergencyConfig = Field(
        default_factory=EmergencyConfig,
        description="The server-wide emergency stop (`csm mail stop|resume`).",
    )
    citadel: CitadelConfig = Field(
        default_factory=CitadelConfig,
        description="A Citadel host (`mta: citadel`): citserver's socket or login, its rooms.",
    )


class MysqlConfig(Section):
    host: str | None = Field(
        None, description="MariaDB host; unset: from `defaults_file`, else localhost."
    )
    port: Port | None = Field(
        None, description="MariaDB TCP port; unset: from `defaults_file`, else 3306."
    )
    user: str | None = Field(
        None, description="MariaDB user; unset: from `defaults_file`, else root."
    )
    password: SecretStr | None = Field(
        None, description="MariaDB password (secret; redacted in `config show`)."
    )
    unix_socket: HostPath | None = Field(
        None,
        description="MariaDB socket on this machine (not under `paths.root`); overrides host/port.",
    )
    defaults_file: HostPath | None = Field(
        "/root/.my.cnf", description="Client option file read for unset credentials."
    )
    connect_timeout: float = Field(
        5.0, gt=0, description="Seconds to wait for a MariaDB connection."
    )


class CpanelConfig(Section):
    uapi_bin: str = Field("/usr/local/cpanel/bin/uapi", description="cPanel's `uapi` executable.")
    whmapi1_bin: str = Field(
        "/usr/local/cpanel/bin/whmapi1", description="cPanel's `whmapi1` executable."
    )
    command_timeout: float = Field(
        60.0, gt=0, description="Seconds before a cPanel API call is abandoned."
    )
    access_log: HostPath = Field(
        "/usr/local/cpanel/logs/access_log",
        description="cpsrvd's access log (cPanel, WHM and Webmail logins); the daemon follows"
        " it on cPanel hosts.",
    )


class ScanConfig(Section):
    extra_rules: list[HostPath] = Field(
        default_factory=list, description="More YARA-X rule files for the file check."
    )
    files: FileRules = Field(
        default_factory=default_file_rules,
        description="File path rules (shipped pack: `rules/files.yaml`).",
    )
    database: DatabaseRules = Field(
        default_factory=default_database_rules,
        description="Database object and content rules (shipped pack: `rules/database.yaml`).",
    )


class AutoResponseConfig(Section):
    quarantine_files: bool = Field(
        False,
        description="Quarantine files a complete scan finds (webshells, obfuscated PHP, PHP in "
        "uploads); never after an incomplete scan.",
    )


class CredentialsConfig(Section):
    password_length: int = Field(
        24, ge=16, le=128, description="Length of the passwords `csm creds rotate` generates."
    )


class HostingConfig(Section):
    panel: Literal["auto", "cpanel", "plain"] = Field(
        "auto", description="Hosting panel: detect it, or force `cpanel` / `plain`."
    )
    dovecot_passwd_files: list[HostPath] = Field(
        default_factory=lambda: ["/etc/dovecot/users"],
        description="Without cPanel: Dovecot passwd-files holding the mailboxes.",
    )
    min_uid: int = Field(
        1000, ge=1, description="Without cPanel: the lowest uid of a hosting account."
    )
    databases: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Databases and database users each account owns (account: [names]) besides "
        "those cPanel's database map lists or named `<first 8 characters of the user>_…`. "
        "CSM acts only on databases an account owns; a wp-config.php naming another is "
        "reported.",
    )


class ApiToken(Section):
    name: str = Field(
        min_length=1, description="Who the token belongs to; recorded in the audit log."
    )
    token: SecretStr | None = Field(
        None,
        min_length=16,
        description="The bearer token (secret; at least 16 characters); or give `token_sha256`.",
    )
    token_sha256: str | None = Field(
        None,
        pattern="^[0-9a-f]{64}$",
        description="The token's sha256, hex (`printf %s TOKEN | sha256sum`): the token itself"
        " is then kept nowhere on the host.",
    )
    scope: Literal["read", "admin"] = Field("read", description="`read` or `admin`.")

    @model_validator(mode="after")
    def _one_form(self) -> ApiToken:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give the token or its token_sha256 (one of them)")
        return self


class ApiConfig(Section):
    enabled: bool = Field(True, description="Whether the daemon serves the HTTP API and web UI.")
    listen: Listen = Field(
        "127.0.0.1:9443",
        description="HTTP API and web UI address, HOST:PORT (port 0: any free port;"
        " `csm status` shows the address).",
    )
    tls_cert: HostPath | None = Field(
        None,
        description="PEM certificate: HTTPS when set, with `tls_key` (`csm install --tls`"
        " makes a self-signed pair).",
    )
    tls_key: HostPath | None = Field(None, description="PEM private key of `tls_cert`.")
    session_ttl: Duration = Field(
        timedelta(hours=12),
        description="How long a web UI login lasts (then the token is asked again).",
    )
    login_failures: int = Field(
        5,
        ge=1,
        le=1000,
        description="Failed logins (or bad tokens) allowed per client address per minute;"
        " more are answered 429 until the minute has passed.",
    )
    tokens: list[ApiToken] = Field(
        default_factory=list,
        description="API tokens: `name`, `token` or `token_sha256`, `scope`.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> ApiConfig:
        names = [t.name for t in self.tokens]
        if len(names) != len(set(names)):
            raise ValueError("two API tokens have the same name (the audit log tells them apart)")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together (give both or neither)")
        return self


class DaemonConfig(Section):
    poll_interval: float = Field(
        0.2, gt=0, le=10, description="Seconds between two reads of the followed logs."
    )
    line_cap: int = Field(
        256 * 1024,
        ge=1024,
        description="Bytes: a longer log line is counted and skipped (`csm status` watchers).",
    )
    scan_critical_every: DurationOrOff = Field(
        timedelta(minutes=10),
        description="How often every account's databases and WordPress administrators are "
        "scanned (`0`: never).",
    )
    scan_deep_every: DurationOrOff = Field(
        timedelta(hours=1),
        description="How often every account is scanned whole, files too (`0`: never).",
    )
    sweep_every: DurationOrOff = Field(
        timedelta(hours=1),
        description="How often the incident sweep runs: auto-close, caps, retention.",
    )
    emergency_reminder_every: DurationOrOff = Field(
        timedelta(minutes=5),
        description="How often the daemon checks for a mail emergency stop: a warning in its "
        "log while mail is stopped, a finding once it lasts `mail.emergency.remind_after` "
        "(`0`: never).",
    )
    backup_reminder_every: DurationOrOff = Field(
        timedelta(hours=24),
        description="How often the daemon logs a reminder when no CSM backup is newer than "
        "`incidents.require_backup_within` (`0`: never).",
    )


class Config(Section):
    hostname: str | None = Field(
        None, description="Name reported by `status`; unset: the machine's hostname."
    )
    paths: PathsConfig = Field(
        default_factory=PathsConfig, description="Where CSM and the host keep things."
    )
    mail: MailConfig = Field(default_factory=MailConfig, description="The mail server.")
    mysql: MysqlConfig = Field(
        default_factory=MysqlConfig, description="MariaDB/MySQL credentials."
    )
    cpanel: CpanelConfig = Field(
        default_factory=CpanelConfig, description="cPanel's API executables."
    )
    hosting: HostingConfig = Field(
        default_factory=HostingConfig, description="The hosting platform."
    )
    scan: ScanConfig = Field(default_factory=ScanConfig, description="Account scans.")
    auto_response: AutoResponseConfig = Field(
        default_factory=AutoResponseConfig, description="What CSM may do on its own (off)."
    )
    credentials: CredentialsConfig = Field(
        default_factory=CredentialsConfig, description="Credential rotation."
    )
    incidents: IncidentsConfig = Field(
        default_factory=IncidentsConfig, description="Incident correlation and lifecycle."
    )
    api: ApiConfig = Field(default_factory=ApiConfig, description="The HTTP API and web UI.")
    firewall: FirewallConfig = Field(
        default_factory=FirewallConfig, description="CSM's nftables table: IP blocks."
    )
    daemon: DaemonConfig = Field(
        default_factory=DaemonConfig, description="`csm daemon`: log following and schedules."
    )


def to_dict(config: Config, *, redact: bool = True) -> dict[str, Any]:
    """The effective configuration as plain data, with secrets shown as ``***`` unless asked."""
    data: dict[str, Any] = _plain(config, redact)
    return data


def _plain(value: Any, redact: bool) -> Any:
    if isinstance(value, BaseModel):
        return {name: _plain(getattr(value, name), redact) for name in type(value).model_fields}
    if isinstance(value, list):
        return [_plain(item, redact) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item, redact) for key, item in value.items()}
    if isinstance(value, SecretStr):
        return "***" if redact else value.get_secret_value()
    if isinstance(value, timedelta):
        return duration.render(value)
    return value


@dataclass(frozen=True, slots=True)
class Setting:
    """One documented setting: dotted path, type, default and description."""

    path: str
    type: str
    default: str
    description: str


def settings(
    model: type[BaseModel] = Config, prefix: str = "", defaults: BaseModel | None = None
) -> Iterator[Setting]:
    """Every leaf setting of ``model``, depth first, in declaration order.  ``defaults`` is the
    section's default value when it has one (a section whose defaults come from a rule pack)."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = _nested_model(field.annotation)
        if nested is not None and not _is_list(field.annotation):
            section = getattr(defaults, name) if defaults is not None else _section_default(field)
            yield from settings(nested, f"{path}.", section)
            continue
        default = _shown(getattr(defaults, name)) if defaults is not None else _default(field)
        yield Setting(path, _type_name(field.annotation), default, field.description or "")
        if nested is not None:
            yield from settings(nested, f"{path}[].")


def _section_default(field: FieldInfo) -> BaseModel | None:
    value = None if field.is_required() else field.get_default(call_default_factory=True)
    return value if isinstance(value, BaseModel) else None


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list


_TYPE_NAMES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    SecretStr: "secret",
    timedelta: "duration",
    type(None): "null",
}


def _type_name(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin in (Union, UnionType, Literal):
        parts = [_type_name(a) if origin is not Literal else f"`{a}`" for a in args]
        return " | ".join(parts)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return _TYPE_NAMES.get(annotation, str(annotation))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(section)"
    return _shown(value)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(_plain(value, redact=True))
