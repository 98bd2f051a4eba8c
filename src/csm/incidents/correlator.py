"""The correlator: findings in, incidents out.  Pure and in memory; time comes only from the
findings, so replaying an old log gives the same incidents as watching it live.

Rules (``csm-go-facts.md`` §2.3-2.6): a finding joins its key's active incident when its time
lies within that incident's span widened by the merge window; otherwise the sighting waits in
the pending bucket until ``open_threshold`` sightings fall within the window (CRITICAL and a
few checks open at once).  Severity and kind only
go up, and each rise is recorded as an action.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from csm.config.incidents import IncidentsConfig
from csm.incidents import classify
from csm.incidents.classify import Classified
from csm.incidents.live import Changes, LiveIncident
from csm.incidents.model import CorrelationKey, Finding, Kind, Severity, Status
from csm.incidents.spray import SprayTracker

SYSTEM = "correlator"
ID_SPACE = 1 << 48
ID_MULTIPLIER = 0x9E3779B97F4B  # odd, so multiplication modulo 2**48 is a bijection


def incident_id(num: int, salt: int = 0) -> str:
    """Ids are unique by construction and the same on every replay into one store: the
    store's creation number, scrambled by a bijection on 48 bits (so that ids do not read as
    a sequence) and shifted by the store's own random ``salt`` (so that two servers do not
    hand out the same ids: a fleet's reports can be merged)."""
    return f"inc_{(num * ID_MULTIPLIER + salt) % ID_SPACE:012x}"


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
        created: int = 0,
        salt: int = 0,
    ) -> None:
        self.settings = settings
        self.salt = salt
        self.bindings: dict[str, list[LiveIncident]] = {}
        for incident in active:
            self.bindings.setdefault(incident.key_text, []).append(incident)
        self.pending = dict(pending or {})
        self.spray = SprayTracker(settings.spray)
        # read on every finding: plain attributes rather than settings lookups
        self.spray_on = settings.spray.enabled
        self.window = settings.merge_window
        self.timeline_cap = settings.timeline_cap
        self.fingerprint_cap = settings.fingerprint_cap
        self.created = created

    def feed(self, finding: Finding, out: Changes) -> Outcome:
        found = classify.classify(finding)
        if found is None:
            return IGNORED
        if self.spray_on and self.spray.tracks(finding):
            folded = self._spray(finding, out)
            if folded is not None:
                return folded
        key = found.key_text
        incident = self._covering(key, finding.time)
        if incident is not None:
            self._merge(incident, finding, found, out)
            return Outcome("merged", incident.id)
        return self._sight(key, finding, found, out)

    def _covering(self, key: str, at: datetime) -> LiveIncident | None:
        """The key's active incident for a finding at ``at``: the one whose span (widened by
        the merge window) holds it, the most recently active when several do (a late or
        replayed line joins the incident of its own time); else, for a finding after it, the
        key's most recently active one, however old (an incident still open absorbs what
        follows until it is closed: one stolen mailbox is one incident, not one per burst).
        A finding older than every incident of its key (an old log read late) opens its own."""
        best, latest = None, None
        for incident in self.bindings.get(key, ()):
            inside = incident.created_at - self.window <= at <= incident.updated_at + self.window
            if inside and (best is None or incident.updated_at > best.updated_at):
                best = incident
            if latest is None or incident.updated_at > latest.updated_at:
                latest = incident
        if best is None and latest is not None and at > latest.updated_at:
            return latest
        return best

    # -- opening ------------------------------------------------------------------------------

    def _sight(self, key: str, finding: Finding, found: Classified, out: Changes) -> Outcome:
        """Open when enough sightings fall in the window, or at once for the gravest; an
        incident that opens takes the key's pending sightings with it (no evidence is lost)."""
        sightings = self.pending.get(key, [])
        if sightings and abs(finding.time - sightings[0].time) > self.window:
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
        kinds = [found.kind, *(classify.kind_of(f) for f in sightings)]
        self.created += 1
        incident = LiveIncident(
            num=self.created,
            id=incident_id(self.created, self.salt),
            kind=max(kinds, key=lambda k: k.rank),
            status=Status.OPEN,
            severity=max((f.severity for f in sightings), key=lambda s: s.rank),
            key=found.key,
            created_at=min(f.time for f in sightings),
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
        self.bindings.setdefault(key, []).append(incident)
        out.touch(incident)
        out.new.add(incident.num)
        return incident

    # -- merging ------------------------------------------------------------------------------

    def _merge(
        self, incident: LiveIncident, finding: Finding, found: Classified, out: Changes
    ) -> None:
        if finding.time > incident.updated_at:  # noqa: PLR1730 - the hot path; max() costs more
            incident.updated_at = finding.time
        self.raise_severity(incident, finding.severity, finding.time, out)
        promotable = not (incident.ip_only and found.ip_only)
        candidate = found.kind if promotable else incident.kind
        if self._add_flag(incident, finding):
            compound = classify.compound_kind(incident.flags)
            if compound is not None and compound.rank > candidate.rank:
                candidate = compound
        if candidate is not incident.kind:
            self.escalate_kind(incident, candidate, finding.time, out)
        self._append(incident, finding, out)
        out.touch(incident)

    def raise_severity(
        self, incident: LiveIncident, severity: Severity, at: datetime, out: Changes
    ) -> None:
        if severity is not incident.severity and severity.rank > incident.severity.rank:
            change = f"{incident.severity.value} -> {severity.value}"
            incident.severity = severity
            out.act(incident, at, "incident_severity_changed", change, SYSTEM)

    def escalate_kind(self, incident: LiveIncident, kind: Kind, at: datetime, out: Changes) -> None:
        if kind.rank > incident.kind.rank:
            change = f"{incident.kind.value} -> {kind.value}"
            incident.kind = kind
            out.act(incident, at, "incident_kind_changed", change, SYSTEM)
            out.rekeyed.add(incident.num)

    @staticmethod
    def _add_flag(incident: LiveIncident, finding: Finding) -> bool:
        """Set the finding's sticky flag; True when the incident gained a new one."""
        flag = classify.compound_flag(finding.check)
        if flag is None or flag in incident.flags:
            return False
        incident.flags.add(flag)
        return True

    def _append(self, incident: LiveIncident, finding: Finding, out: Changes) -> None:
        fingerprint = finding.fingerprint
        incident.finding_count += 1
        incident.event_seq += 1
        incident.event_count += 1
        incident.fingerprint_count += 1
        out.events.append((incident.num, incident.event_seq, finding, fingerprint))
        if (
            incident.event_count > self.timeline_cap
            or incident.fingerprint_count > self.fingerprint_cap
        ):
            out.truncate.add(incident.num)

    # -- credential spray ----------------------------------------------------------------------

    def _spray(self, finding: Finding, out: Changes) -> Outcome | None:
        """Fold a tracked finding into its source IP's spray incident once the IP qualifies."""
        verdict = self.spray.observe(finding)
        if verdict.severity is None:
            return None
        key = CorrelationKey(remote_ip=finding.remote_ip)
        found = Classified.of(Kind.CREDENTIAL_SPRAY, key)
        incident = self._covering(key.encode(), finding.time)
        if incident is None:
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
