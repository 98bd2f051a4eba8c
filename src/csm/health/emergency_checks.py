"""``csm doctor``'s rows for the mail emergency stop: whether mail is stopped now (a warning
with its age and the command that undoes it), and whether Exim reads CSM's flags."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from csm.config.loader import LoadedConfig
from csm.emergency import repo
from csm.emergency.citadel import outbound_stopped
from csm.emergency.flags import NAMES, EximFlags, Flags
from csm.errors import CsmError
from csm.health.doctor_model import Check, CheckStatus
from csm.host import Host
from csm.mailqueue.exim import Exim
from csm.mailqueue.views import age
from csm.servicemanager import ServiceManager
from csm.store.db import Store, health

STOPPED = "mail emergency stop"
SNIPPETS = "emergency stop snippets"


def emergency_checks(loaded: LoadedConfig, host: Host) -> list[Check]:
    mail = loaded.config.mail
    if mail.mta == "citadel":
        citadel = mail.citadel
        manager = ServiceManager(host, citadel.systemctl_bin, host.path(citadel.unit_dir))
        drop_in = manager.drop_in(citadel.service)
        strays = {"outbound": drop_in} if outbound_stopped(manager, citadel.service) else {}
        return [_stopped(loaded, host, strays)]
    if mail.mta != "exim":
        return [Check(SNIPPETS, CheckStatus.OK, "not needed (no Exim)")]
    flags = Flags(host.path(mail.emergency.flag_dir))
    present = {d: flags.path(d) for d in NAMES if flags.present(d)}
    return [_stopped(loaded, host, present), _snippets(loaded, host, flags)]


def _stopped(loaded: LoadedConfig, host: Host, present: dict[str, Path]) -> Check:
    """Open stops, and what is in place on the mail server (``present``: a flag file, a
    drop-in) that no stop records."""
    state_dir = host.path(loaded.config.paths.state_dir)
    stops: list[repo.Stop] = []
    if health(state_dir).healthy:
        store = Store.open_readonly(state_dir)
        try:
            stops = [s for s in repo.stops(store.conn) if s.open]
        finally:
            store.close()
    recorded = {s.direction for s in stops}
    stray = [d for d in present if d not in recorded]
    if not stops and not stray:
        return Check(STOPPED, CheckStatus.OK, "mail flows (no stop)")
    now = datetime.now(UTC)
    lines = [
        f"{s.direction} mail {'stopped' if s.state == 'active' else s.state + ' (interrupted)'}"
        f" for {age(int((now - s.started_at).total_seconds()))} (since"
        f" {s.started_at:%Y-%m-%d %H:%M}Z, by {s.who}: {s.reason})"
        for s in stops
    ]
    lines += [f"{present[d]} is in place with no stop recorded" for d in stray]
    fixes = [s.next_step for s in stops]
    fixes += [f"csm mail resume {d} --apply" for d in stray]
    return Check(
        STOPPED, CheckStatus.WARN, "; ".join(lines), "when it is cleared: " + "; ".join(fixes)
    )


def _snippets(loaded: LoadedConfig, host: Host, flags: Flags) -> Check:
    mail = loaded.config.mail
    config = host.path(mail.exim_config) if mail.exim_config else None
    try:
        found = EximFlags(Exim(mail, host), flags, config).installed()
    except CsmError as exc:
        return Check(SNIPPETS, CheckStatus.WARN, f"could not ask Exim: {exc.message}", exc.fix)
    missing = found.missing("outbound") + found.missing("inbound")
    closed = None if _runs_as_root(Exim(mail, host)) else _unreachable(flags.directory)
    if closed:
        fix = f"chmod o+x {closed} (Exim's user checks the flags there)"
        return Check(SNIPPETS, CheckStatus.FAIL, f"{closed} is not searchable by Exim", fix)
    if missing:
        fix = (
            f"install csm/config/exim/emergency-*.acl and emergency-router.conf with"
            f" CSM_MAIL_FLAGS = {flags.directory} (see each file's header)"
        )
        return Check(SNIPPETS, CheckStatus.WARN, "missing: " + "; ".join(missing), fix)
    return Check(SNIPPETS, CheckStatus.OK, f"installed; flags in {flags.directory}")


def _runs_as_root(exim: Exim) -> bool:
    """Whether Exim's user is root (a test or drill configuration): every flag is reachable."""
    done = exim.run("-bP", "exim_user")
    user = done.text.partition("=")[2].strip()
    return user in {"root", "0"}


def _unreachable(directory: Path) -> Path | None:
    """The first existing directory on the way to ``directory`` others cannot search."""
    for part in (*reversed(directory.parents), directory):
        try:
            mode = part.stat().st_mode
        except FileNotFoundError:
            return None  # made (0755) at the first stop
        if not mode & 0o001:
            return part
    return None
