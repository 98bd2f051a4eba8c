"""Inbound: SMTP answers 421 (a temporary refusal: remote servers keep their mail and retry
later), and with ``--firewall`` the SMTP ports are also closed in CSM's nftables table (the
ports are recorded before they are closed, so the resume opens exactly those)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from csm.clock import isoformat
from csm.emergency import repo
from csm.emergency.flags import EximFlags, Flags
from csm.emergency.model import ResumeResult, StopResult
from csm.emergency.record import Recorder
from csm.nftables import Nft


@dataclass
class Inbound:
    record: Recorder
    flags: Flags
    exim: EximFlags
    nft: Nft
    smtp_ports: tuple[int, ...]

    def stop(
        self, reason: str, who: str, *, apply: bool, firewall: bool, incident: str | None
    ) -> StopResult:
        stop = self.record.unfinished("inbound")
        missing = tuple(self.exim.installed().missing("inbound"))
        ports = self.smtp_ports if firewall else ()
        warnings = () if not missing or firewall else (_unread(missing),)
        preview = StopResult(
            "inbound",
            False,
            stop,
            continued=stop is not None,
            exim_reads_flag=not missing,
            missing=missing,
            ports=ports,
            warnings=warnings,
        )
        if not apply:
            return preview
        stop = stop or self.record.begin("inbound", reason, who, incident)
        note = {"stop": stop.id, "who": stop.who, "reason": stop.reason}
        self.flags.raise_flag("inbound", json.dumps({**note, "at": isoformat(stop.started_at)}))
        if ports:
            stop = close_ports(self.record, self.nft, stop, ports)
        refused = self.exim.refuses_smtp()
        stop = self.record.stopped(stop, {"smtp_refused": refused, "ports": list(stop.ports)})
        return replace(
            preview, applied=True, stop=stop, smtp_refused=refused, incidents=stop.incidents
        )

    def resume(self, who: str, *, apply: bool) -> ResumeResult:
        stop = self.record.resumable("inbound")
        result = ResumeResult("inbound", False, stop, stop.state == "resuming", ports=stop.ports)
        if not apply:
            return result
        stop = self.record.state(stop, "resuming")
        self.flags.lower("inbound")
        if stop.ports:
            self.nft.open_ports(stop.ports)
        self.record.resumed(stop, who, "", {"ports": list(stop.ports)})
        return replace(result, applied=True, stop=stop)


def close_ports(record: Recorder, nft: Nft, stop: repo.Stop, ports: tuple[int, ...]) -> repo.Stop:
    """Record the ports, then close them (a kill between: the rerun closes them)."""
    wanted = tuple(sorted({*stop.ports, *ports}))
    with record.store.transaction() as conn:
        repo.set_ports(conn, stop.id, wanted)
    nft.stop_ports(wanted)
    return replace(stop, ports=wanted)


def _unread(missing: tuple[str, ...]) -> str:
    return (
        "Exim's configuration does not read CSM's inbound flag, so SMTP would go on accepting"
        f" mail (missing: {'; '.join(missing)}); add --firewall to close the SMTP ports, or"
        " install csm/config/exim/emergency-inbound.acl (`csm doctor` checks it)"
    )
