"""The emergency stop on a Citadel host, as the second procedure does it by hand, recorded so
that the resume undoes exactly what the stop changed.

- Outbound: citserver restarted with ``CITSERVER_n_session_max=0`` (no outbound SMTP
  sessions), set through a systemd drop-in CSM owns; the resume removes the drop-in and
  restarts citserver.  Nothing is frozen (Citadel has no such state): the jobs wait in the
  queue room, where ``csm queue trash`` can move reviewed ones out.
- Inbound: the SMTP listeners (MTA, MSA, SMTPS) set to ``-1`` in the site configuration and
  citserver restarted; their ports as they were are recorded first, and the resume sets back
  those still at ``-1`` (a port the operator changed meanwhile is left as it is).
  ``--firewall`` also closes the SMTP ports in CSM's nftables table, as on Exim."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from csm.citadel.client import Session
from csm.citadel.siteconfig import DISABLED, SMTP_PORTS, set_smtp_ports, smtp_ports
from csm.emergency import repo
from csm.emergency.inbound import close_ports
from csm.emergency.model import AccountCount, ResumeResult, StopResult
from csm.emergency.record import Recorder
from csm.errors import RefusedError, UsageError
from csm.mailqueue.service import MailQueue
from csm.nftables import Nft
from csm.servicemanager import ServiceManager

VARIABLE: Final = "CITSERVER_n_session_max"
TOP: Final = 10
CAVEAT: Final = (
    f"citserver stops sending only if its SMTP client reads {VARIABLE} (the event-driven"
    " client of Citadel 8 and 9 does; newer releases may not): to be sure nothing more leaves,"
    " review the queue and move it to the trash (csm queue review, csm queue trash)"
)
Connect = Callable[[], Session]


def outbound_stopped(manager: ServiceManager, unit: str) -> bool:
    """Whether CSM's drop-in starts citserver without outbound sessions."""
    return manager.environment(unit).get(VARIABLE) == "0"


@dataclass(frozen=True, slots=True)
class CitadelControls:
    manager: ServiceManager
    unit: str
    connect: Connect
    mta: str = "citadel"

    def present(self, direction: str) -> bool:
        if direction == "outbound":
            return outbound_stopped(self.manager, self.unit)
        with self.connect() as session:
            return all(port == DISABLED for port in smtp_ports(session).values())

    def where(self, direction: str) -> str:
        if direction == "outbound":
            return f"{self.manager.drop_in(self.unit)} ({VARIABLE}=0) is in place"
        return "Citadel's SMTP listeners are all disabled (-1) in its site configuration"

    def lower(self, direction: str) -> None:
        if direction == "inbound":
            raise RefusedError(
                "no stop recorded Citadel's SMTP ports as they were, so CSM cannot set them back",
                fix="set them in WebCit (Administration, Edit site-wide configuration, SMTP:"
                " usually 25, 587 and 465), then restart citserver",
            )
        self.manager.clear_environment(self.unit)
        self.manager.restart(self.unit)

    def missing(self, direction: str) -> list[str]:
        with self.connect() as session:  # citserver answers, and lets CSM read its ports
            smtp_ports(session)
        return []


@dataclass
class CitadelOutbound:
    record: Recorder
    controls: CitadelControls
    queue: MailQueue

    def stop(self, reason: str, who: str, *, apply: bool, incident: str | None) -> StopResult:
        stop = self.record.unfinished("outbound")
        queued = self.queue.read().messages
        counts = Counter(m.account for m in queued)
        manager, unit = self.controls.manager, self.controls.unit
        preview = StopResult(
            "outbound",
            False,
            stop,
            continued=stop is not None,
            by_account=tuple(AccountCount(a, n) for a, n in counts.most_common(TOP)),
            exim_reads_flag=True,
            warnings=(CAVEAT,),
            mta="citadel",
            changes=(
                f"{manager.drop_in(unit)}: Environment={VARIABLE}=0",
                f"restart {unit}.service (citserver)",
            ),
            queued=len(queued),
        )
        if not apply:
            return preview
        stop = stop or self.record.begin("outbound", reason, who, incident)
        comment = (
            f"csm mail stop outbound: {stop.id} by {stop.who}: {stop.reason}\n"
            "csm mail resume outbound --apply removes this file"
        )
        manager.set_environment(unit, {VARIABLE: "0"}, comment)
        manager.restart(unit)
        stop = self.record.stopped(stop, {"drop_in": str(manager.drop_in(unit))})
        return replace(preview, applied=True, stop=stop, incidents=stop.incidents)

    def resume(self, who: str, *, apply: bool, approve: str) -> ResumeResult:
        if approve.strip():
            raise UsageError("--approve thaws frozen messages: Citadel's queue has none")
        stop = self.record.resumable("outbound")
        manager, unit = self.controls.manager, self.controls.unit
        queued = len(self.queue.read().messages)
        result = ResumeResult(
            "outbound",
            False,
            stop,
            continued=stop.state == "resuming",
            mta="citadel",
            changes=(
                f"{manager.drop_in(unit)} removed",
                f"restart {unit}.service (citserver)",
                f"{queued} job(s) in the queue room are then delivered",
            ),
        )
        if not apply:
            return result
        stop = self.record.state(stop, "resuming")
        manager.clear_environment(unit)
        manager.restart(unit)
        self.record.resumed(stop, who, "", {"drop_in_removed": True, "queued": queued})
        return replace(result, applied=True, stop=stop)


@dataclass
class CitadelInbound:
    record: Recorder
    controls: CitadelControls
    nft: Nft
    smtp_ports: tuple[int, ...]

    def stop(
        self, reason: str, who: str, *, apply: bool, firewall: bool, incident: str | None
    ) -> StopResult:
        stop = self.record.unfinished("inbound")
        with self.controls.connect() as session:
            now = smtp_ports(session)
        was = stop.changes if stop is not None and stop.changes else now
        preview = StopResult(
            "inbound",
            False,
            stop,
            continued=stop is not None,
            exim_reads_flag=True,
            ports=self.smtp_ports if firewall else (),
            mta="citadel",
            changes=(
                *(f"{key}: {port} -> -1" for key, port in was.items()),
                f"restart {self.controls.unit}.service (citserver)",
            ),
        )
        if not apply:
            return preview
        stop = stop or self.record.begin("inbound", reason, who, incident)
        if not stop.changes:  # recorded before anything changes; a rerun keeps the first
            with self.record.store.transaction() as conn:
                repo.set_changes(conn, stop.id, now)
            stop = replace(stop, changes=now)
        with self.controls.connect() as session:
            set_smtp_ports(session, dict.fromkeys(SMTP_PORTS, DISABLED))
        if firewall:
            stop = close_ports(self.record, self.nft, stop, self.smtp_ports)
        self.controls.manager.restart(self.controls.unit)
        details: dict[str, object] = {"ports_were": stop.changes, "firewall": list(stop.ports)}
        stop = self.record.stopped(stop, details)
        return replace(preview, applied=True, stop=stop, incidents=stop.incidents)

    def resume(self, who: str, *, apply: bool) -> ResumeResult:
        stop = self.record.resumable("inbound")
        with self.controls.connect() as session:
            now = smtp_ports(session)
        back = {k: v for k, v in stop.changes.items() if now.get(k) == DISABLED}
        changed = [
            f"{k} is {now[k]} now (changed meanwhile): left" for k in stop.changes if k not in back
        ]
        result = ResumeResult(
            "inbound",
            False,
            stop,
            stop.state == "resuming",
            ports=stop.ports,
            mta="citadel",
            changes=(
                *(f"{key}: -1 -> {port}" for key, port in back.items()),
                *changed,
                f"restart {self.controls.unit}.service (citserver)",
            ),
        )
        if not apply:
            return result
        stop = self.record.state(stop, "resuming")
        with self.controls.connect() as session:
            set_smtp_ports(session, back)
        if stop.ports:
            self.nft.open_ports(stop.ports)
        self.controls.manager.restart(self.controls.unit)
        self.record.resumed(stop, who, "", {"ports": back, "firewall": list(stop.ports)})
        return replace(result, applied=True, stop=stop)
