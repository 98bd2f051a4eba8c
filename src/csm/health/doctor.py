"""``csm doctor``: every check with a status, a message and, when not ok, a concrete fix.

The report's overall status is the worst check.  A configuration that cannot be loaded stops
the run after the config rows: the other checks need to know where things are.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from csm import control, mysql
from csm.citadel.client import Address, Session
from csm.config import profiles
from csm.config.loader import LoadedConfig
from csm.errors import CommandNotFoundError, ConfigError, CsmError
from csm.health.daemon_checks import daemon_checks
from csm.health.doctor_model import Check, CheckStatus, DoctorReport, report
from csm.health.emergency_checks import emergency_checks
from csm.host import Host
from csm.mailqueue.exim import Exim
from csm.mailqueue.holds import HELD_MACRO, held_file
from csm.store.db import STATE_DIR_MODE, health


def config_failed(error: ConfigError) -> DoctorReport:
    """The report when the configuration cannot be loaded: one row, plus one per bad key."""
    checks = [Check("config valid", CheckStatus.FAIL, error.message, error.fix)]
    checks += [
        Check(f"config: {p.path}", CheckStatus.FAIL, _problem_text(p.message, p.source), error.fix)
        for p in error.problems
    ]
    return report(checks)


def _problem_text(message: str, source: str | None) -> str:
    return f"{message} (in {source})" if source else message


def diagnose(loaded: LoadedConfig, host: Host) -> DoctorReport:
    """Run every check against a loaded configuration."""
    checks = [_config_ok(loaded)] + [_contained(probe, loaded, host) for probe in PROBES]
    return report(checks + emergency_checks(loaded, host) + daemon_checks(loaded, host))


def _contained(probe: Probe, loaded: LoadedConfig, host: Host) -> Check:
    """A probe that breaks unexpectedly is a failed check, so the report is always complete."""
    try:
        return probe(loaded, host)
    except (CsmError, OSError, ValueError) as exc:
        name = PROBE_NAMES[probe]
        fix = getattr(exc, "fix", None) or "read the message; run `csm doctor` again once fixed"
        return Check(name, CheckStatus.FAIL, f"check could not run: {exc}", fix)


def _config_ok(loaded: LoadedConfig) -> Check:
    extra = f" + {len(loaded.dropins)} drop-in(s)" if loaded.dropins else ""
    return Check("config valid", CheckStatus.OK, f"{loaded.path}{extra}")


def _store(loaded: LoadedConfig, host: Host) -> Check:
    state = health(host.path(loaded.config.paths.state_dir))
    if state.healthy:
        applied = len(state.migrations.applied) if state.migrations else 0
        return Check("state store healthy", CheckStatus.OK, f"{state.path} ({applied} migrations)")
    if not state.exists:
        fix = "run `csm store migrate` to create it"
    elif state.migrations and state.migrations.pending:
        fix = "run `csm store migrate`"
    else:
        fix = "stop the daemon and restore the last good backup: `csm restore <archive>`"
    return Check("state store healthy", CheckStatus.FAIL, f"{state.path}: {state.error}", fix)


def _state_dir(loaded: LoadedConfig, host: Host) -> Check:
    path = host.path(loaded.config.paths.state_dir)
    name = "state dir permissions"
    try:
        info = path.stat()
    except FileNotFoundError:
        return Check(name, CheckStatus.FAIL, f"{path} does not exist", "run `csm store migrate`")
    problems, fixes = [], []
    if info.st_mode & 0o777 != STATE_DIR_MODE:
        problems.append(f"mode {info.st_mode & 0o777:04o}, want 0700")
        fixes.append(f"chmod 700 {path}")
    if os.geteuid() == 0 and info.st_uid != 0:
        problems.append(f"owned by uid {info.st_uid}, want root")
        fixes.append(f"chown root:root {path}")
    if problems:
        return Check(name, CheckStatus.FAIL, f"{path}: {'; '.join(problems)}", " && ".join(fixes))
    return Check(name, CheckStatus.OK, f"{path} (0700)")


def _mta(loaded: LoadedConfig, host: Host) -> Check:
    mail = loaded.config.mail
    name = "MTA reachable"
    if mail.mta == "none":
        return Check(name, CheckStatus.OK, "no MTA configured (mail.mta: none)")
    if mail.mta == "postfix":
        return Check(
            name, CheckStatus.WARN, "postfix is not supported yet", "set mail.mta: exim or none"
        )
    if mail.mta == "citadel":
        return _citadel(loaded, host)
    try:
        count = Exim(mail, host).count()
    except CommandNotFoundError:
        fix = "install Exim (`apt-get install exim4-daemon-light`) or set mail.exim_bin"
        return Check(name, CheckStatus.FAIL, f"{mail.exim_bin} not found", fix)
    except CsmError as exc:
        fix = "check mail.exim_bin and mail.exim_config; run `exim -bV` to see Exim's own error"
        return Check(name, CheckStatus.FAIL, exc.message, fix)
    return Check(name, CheckStatus.OK, f"exim -bpc: {count} queued")


def _citadel(loaded: LoadedConfig, host: Host) -> Check:
    settings, name = loaded.config.mail.citadel, "MTA reachable"
    try:
        address = Address.of(settings, host)
        with Session(address) as session:
            session.goto(settings.queue_room)
            count = len(session.numbers())
    except CsmError as exc:
        fix = (
            "check mail.citadel (socket, or host/port with an Aide's user and password_file)"
            " and that citserver runs"
        )
        return Check(name, CheckStatus.FAIL, exc.message, fix)
    return Check(
        name, CheckStatus.OK, f"citserver at {address.describe()}: {count} message(s) queued"
    )


def _hold_acl(loaded: LoadedConfig, host: Host) -> Check:
    """On an Exim host without cPanel, ``csm mail hold`` works only through the ACL snippet."""
    config, name = loaded.config, "mail hold ACL"
    if config.mail.mta != "exim" or profiles.detect(config, host).panel == "cpanel":
        return Check(name, CheckStatus.OK, "not needed (cPanel holds mail itself, or no Exim)")
    wanted = str(held_file(host.path(config.paths.state_dir)))
    found = Exim(config.mail, host).macro(HELD_MACRO)
    fix = f"install csm/config/exim/hold.acl in Exim's configuration with {HELD_MACRO} = {wanted}"
    if found is None:
        return Check(
            name, CheckStatus.WARN, f"Exim defines no {HELD_MACRO}: holds would stop nothing", fix
        )
    if found != wanted:
        return Check(name, CheckStatus.FAIL, f"{HELD_MACRO} is {found}; CSM writes {wanted}", fix)
    return Check(name, CheckStatus.OK, f"{HELD_MACRO} = {wanted}")


def _mariadb(loaded: LoadedConfig, host: Host) -> Check:
    settings = loaded.config.mysql
    name = "MariaDB reachable"
    creds = mysql.credentials(settings, host)
    try:
        version = mysql.server_version(creds, settings.connect_timeout)
    except CsmError as exc:
        fix = (
            f"start MariaDB (`systemctl start mariadb`) and check the credentials "
            f"(mysql.* in csm.yaml, or {settings.defaults_file or 'mysql.defaults_file'})"
        )
        return Check(name, CheckStatus.FAIL, exc.message, fix)
    return Check(name, CheckStatus.OK, f"{creds.describe()} (server {version})")


def _panel(loaded: LoadedConfig, host: Host) -> Check:
    profile = profiles.detect(loaded.config, host)
    name = "hosting panel detected"
    if profile.panel == "cpanel":
        how = "forced by hosting.panel" if profile.forced else ", ".join(profile.evidence)
        return Check(name, CheckStatus.OK, f"cPanel ({how})")
    if profile.forced:
        return Check(name, CheckStatus.OK, "plain host (set by hosting.panel)")
    fix = "on a cPanel server check paths.root; on a plain host set hosting.panel: plain"
    return Check(name, CheckStatus.WARN, "no cPanel layout found", fix)


def _daemon(loaded: LoadedConfig, host: Host) -> Check:
    path = host.path(loaded.config.paths.control_socket)
    if control.answers(path):
        return Check("daemon reachable", CheckStatus.OK, f"control socket {path} answers")
    message = (
        f"not running ({path}): start it with `systemctl start csm` (after `csm install`);"
        " every command also works without it"
    )
    return Check("daemon reachable", CheckStatus.OK, message)


Probe = Callable[[LoadedConfig, Host], Check]
PROBE_NAMES: dict[Probe, str] = {
    _store: "state store healthy",
    _state_dir: "state dir permissions",
    _mta: "MTA reachable",
    _hold_acl: "mail hold ACL",
    _mariadb: "MariaDB reachable",
    _panel: "hosting panel detected",
    _daemon: "daemon reachable",
}
PROBES: tuple[Probe, ...] = tuple(PROBE_NAMES)
