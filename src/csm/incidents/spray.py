"""Credential-spray tracking (§2.10): one source IP trying many distinct mailboxes or accounts."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from csm.config.incidents import SprayConfig
from csm.incidents.classify import account_of, canonical_mailbox
from csm.incidents.model import Finding, Severity


@dataclass(frozen=True, slots=True)
class SprayVerdict:
    """``severity`` is None while the IP does not (yet) make a spray incident."""

    severity: Severity | None
    targets: int
    opened: bool = False


@dataclass(slots=True)
class _Track:
    last_seen: datetime
    targets: set[str] = field(default_factory=set)
    bound: bool = False
    counted: bool = False


class SprayTracker:
    def __init__(self, settings: SprayConfig) -> None:
        self.settings = settings
        self.ips: OrderedDict[str, _Track] = OrderedDict()
        self.dry_run_opens = 0
        threshold = settings.distinct_mailboxes
        escalate = settings.severity_escalate_at
        self.escalate_at = escalate if escalate > threshold else 5 * threshold

    def tracks(self, finding: Finding) -> bool:
        return (
            self.settings.enabled
            and bool(finding.remote_ip)
            and finding.check in self.settings.per_check
        )

    def observe(self, finding: Finding) -> SprayVerdict:
        track = self._track(finding)
        track.targets.add(target(finding))
        count = len(track.targets)
        if count < self.settings.distinct_mailboxes:
            return SprayVerdict(None, count)
        if self.settings.dry_run:
            self.dry_run_opens += 0 if track.counted else 1
            track.counted = True
            return SprayVerdict(None, count)
        opened, track.bound = not track.bound, True
        severity = Severity.CRITICAL if count >= self.escalate_at else Severity.HIGH
        return SprayVerdict(severity, count, opened)

    def _track(self, finding: Finding) -> _Track:
        ip = finding.remote_ip
        track = self.ips.get(ip)
        idle = track is not None and finding.time - track.last_seen > self.settings.idle_reset
        if track is None or (idle and not track.bound):
            track = _Track(finding.time)
            self.ips[ip] = track
        track.last_seen = max(track.last_seen, finding.time)
        self.ips.move_to_end(ip)
        while len(self.ips) > self.settings.max_tracked_ips:
            self.ips.popitem(last=False)
        return track


def target(finding: Finding) -> str:
    """Who was tried: the canonical mailbox, else the account, else the message."""
    _, mailbox = canonical_mailbox(finding.mailbox, finding.domain)
    return mailbox or account_of(finding) or finding.message
