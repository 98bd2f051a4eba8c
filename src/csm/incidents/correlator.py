"""The correlator: findings in, incidents out.  Pure and in memory; time comes only from the
findings, so replaying an old log gives the same incidents as watching it live.

Rules (``csm-go-facts.md`` §2.3-2.6): a key bound to an active incident updated within the merge
window merges; otherwise the sighting waits in the pending bucket until ``open_threshold``
sightings fall within the window (CRITICAL and a few checks open at once).  Severity and kind only
go up, and each rise is recorded as an action.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from csm.config.incidents import IncidentsConfig
from csm.incidents import classify
from csm.incidents.classify import Classified
from csm.incidents.live import Changes, LiveIncident
from csm.incidents.model import CorrelationKey, Finding, Kind, Severity, Status
from csm.incidents.spray import SprayTracker

SYSTEM = "correlator"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one finding: ``created``, ``merged``, ``pending`` or ``ignored``."""

    result: str
    incident_id: str | None = None


IGNORED = Outcome("ignored")


class Correlator:
    def __init__(
        self,
        settings: IncidentsConfig,
        active: Iterable[LiveIncident] = (),
        pending: dict[str, list[Finding]] | None = None,
        id_taken: Callable[[str], bool] = lambda _id: False,
    ) -> None:
        self.settings = settings
        self.bindings = {incident.key.encode(): incident for incident in active}
        self.pending = dict(pending or {})
        self.spray = SprayTracker(settings.spray)
        self._id_taken = id_taken
        self._created: set[str] = set()

    def feed(self, finding: Finding, out: Changes) -> Outcome:
        found = classify.classify(finding)
        if found is None:
            return IGNORED
        if self.spray.tracks(finding):
            folded = self._spray(finding, out)
            if folded is not None:
                return folded
        key = found.key.encode()
        incident = self.bindings.get(key)
        if incident is not None:
            if finding.time - incident.updated_at <= self.settings.merge_window:
                self._merge(incident, finding, found, out)
                return Outcome("merged", incident.id)
            del self.bindings[key]
        return self._sight(key, finding, found, out)

    def bind(self, incident: LiveIncident) -> None:
        self.bindings[incident.key.encode()] = incident

    def unbind(self, incident: LiveIncident) -> None:
        key = incident.key.encode()
        bound = self.bindings.get(key)
        if bound is not None and bound.id == incident.id:
            del self.bindings[key]

    # -- opening ------------------------------------------------------------------------------

    def _sight(self, key: str, finding: Finding, found: Classified, out: Changes) -> Outcome:
        """Open when enough sightings fall in the window, or at once for the gravest; an
        incident that opens takes the key's pending sightings with it (no evidence is lost)."""
        sightings = self.pending.get(key, [])
        if sightings and finding.time - sightings[0].time > self.settings.merge_window:
            sightings = []
        sightings = [*sightings, finding]
        at_once = classify.opens_at_once(finding, found.kind)
        if not at_once and len(sightings) < self.settings.open_threshold:
            self.pending[key] = sightings
            out.pending[key] = sightings
            out.pending_cleared.discard(key)
            return Outcome("pending")
        self._drop_pending(key, out)
        return Outcome("created", self._open(key, sightings, found, out).id)

    def _drop_pending(self, key: str, out: Changes) -> None:
        if self.pending.pop(key, None) is not None or key in out.pending:
            out.pending.pop(key, None)
            out.pending_cleared.add(key)

    def _open(
        self, key: str, sightings: list[Finding], found: Classified, out: Changes
    ) -> LiveIncident:
        first = sightings[0]
        kinds = [found.kind, *(classify.kind_of(f) for f in sightings)]
        incident = LiveIncident(
            id=self._new_id(key, first),
            kind=max(kinds, key=lambda k: k.rank),
            status=Status.OPEN,
            severity=max((f.severity for f in sightings), key=lambda s: s.rank),
            key=found.key,
            created_at=first.time,
            updated_at=max(f.time for f in sightings),
            account=found.key.account,
            domain=found.key.domain,
            mailbox=found.key.mailbox,
        )
        for finding in sightings:
            self._add_flag(incident, finding)
            self._append(incident, finding, out)
        compound = classify.compound_kind(incident.flags)
        if compound is not None and compound.rank > incident.kind.rank:
            incident.kind = compound
        self.bindings[key] = incident
        out.touch(incident)
        return incident

    def _new_id(self, key: str, first: Finding) -> str:
        salt = 0
        while True:
            seed = f"{key}|{first.time.isoformat()}|{first.fingerprint}|{salt}"
            candidate = "inc_" + hashlib.sha256(seed.encode()).hexdigest()[:12]
            if candidate not in self._created and not self._id_taken(candidate):
                self._created.add(candidate)
                return candidate
            salt += 1

    # -- merging ------------------------------------------------------------------------------

    def _merge(
        self, incident: LiveIncident, finding: Finding, found: Classified, out: Changes
    ) -> None:
        incident.updated_at = max(incident.updated_at, finding.time)
        self.raise_severity(incident, finding.severity, finding.time, out)
        self._add_flag(incident, finding)
        promotable = not (incident.key.ip_only and found.key.ip_only)
        candidate = found.kind if promotable else incident.kind
        compound = classify.compound_kind(incident.flags)
        if compound is not None and compound.rank > candidate.rank:
            candidate = compound
        self.escalate_kind(incident, candidate, finding.time, out)
        self._append(incident, finding, out)
        out.touch(incident)

    def raise_severity(
        self, incident: LiveIncident, severity: Severity, at: datetime, out: Changes
    ) -> None:
        if severity.rank > incident.severity.rank:
            change = f"{incident.severity.value} -> {severity.value}"
            incident.severity = severity
            out.act(incident, at, "incident_severity_changed", change, SYSTEM)

    def escalate_kind(self, incident: LiveIncident, kind: Kind, at: datetime, out: Changes) -> None:
        if kind.rank > incident.kind.rank:
            change = f"{incident.kind.value} -> {kind.value}"
            incident.kind = kind
            out.act(incident, at, "incident_kind_changed", change, SYSTEM)

    @staticmethod
    def _add_flag(incident: LiveIncident, finding: Finding) -> None:
        flag = classify.compound_flag(finding.check)
        if flag is not None:
            incident.flags.add(flag)

    def _append(self, incident: LiveIncident, finding: Finding, out: Changes) -> None:
        fingerprint = finding.fingerprint
        incident.finding_count += 1
        incident.event_seq += 1
        incident.event_count += 1
        out.events.append((incident.id, incident.event_seq, finding, fingerprint))
        incident.fingerprint_seq += 1
        incident.fingerprint_count += 1
        out.fingerprints.append((incident.id, incident.fingerprint_seq, fingerprint))
        if (
            incident.event_count > self.settings.timeline_cap
            or incident.fingerprint_count > self.settings.fingerprint_cap
        ):
            out.truncate.add(incident.id)

    # -- credential spray ----------------------------------------------------------------------

    def _spray(self, finding: Finding, out: Changes) -> Outcome | None:
        """Fold a tracked finding into its source IP's spray incident once the IP qualifies."""
        verdict = self.spray.observe(finding)
        if verdict.severity is None:
            return None
        key = CorrelationKey(remote_ip=finding.remote_ip)
        found = Classified(Kind.CREDENTIAL_SPRAY, key)
        incident = self.bindings.get(key.encode())
        if incident is None or finding.time - incident.updated_at > self.settings.merge_window:
            incident, result = self._open(key.encode(), [finding], found, out), "created"
        else:
            self._merge(incident, finding, found, out)
            result = "merged"
        self.raise_severity(incident, verdict.severity, finding.time, out)
        self.escalate_kind(incident, Kind.CREDENTIAL_SPRAY, finding.time, out)
        incident.spray_targets = verdict.targets
        if verdict.opened:
            detail = f"{verdict.targets} distinct targets from {finding.remote_ip}"
            out.act(incident, finding.time, "credential_spray_opened", detail, SYSTEM)
        return Outcome(result, incident.id)
