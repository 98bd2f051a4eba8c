"""Incident settings: correlation, thresholds, caps, auto-close, retention, credential spray."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, field_validator

from csm.config.fields import Duration, DurationOrOff, Section

KindName = Literal[
    "web_attack",
    "mailbox_bruteforce",
    "web_account_compromise",
    "mailbox_takeover",
    "post_exploit_process",
    "credential_spray",
    "host_integrity_risk",
    "host_takeover",
]

AUTO_CLOSE_DEFAULTS: dict[KindName, timedelta | None] = {
    "mailbox_takeover": timedelta(hours=24),
    "mailbox_bruteforce": timedelta(hours=24),
    "credential_spray": timedelta(hours=24),
    "web_attack": timedelta(hours=24),
    "web_account_compromise": timedelta(hours=168),
}
SPRAY_CHECKS = ["email_auth_failure_realtime", "pam_bruteforce", "credential_stuffing"]


class AutoCloseConfig(Section):
    enabled: bool = Field(
        True, description="Close incidents idle longer than their kind's threshold."
    )
    dry_run: bool = Field(False, description="Only count what auto-close would close.")
    by_kind: dict[KindName, Duration | None] = Field(
        default_factory=lambda: dict(AUTO_CLOSE_DEFAULTS),
        description="Idle threshold per kind; keys given here replace the defaults one by one, "
        "`null` turns a kind off. Kinds not listed are never auto-closed.",
    )
    max_per_sweep: int = Field(1000, ge=1, description="At most this many closed per sweep.")

    @field_validator("by_kind", mode="before")
    @classmethod
    def _keep_defaults(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {**AUTO_CLOSE_DEFAULTS, **value}
        return value


class SprayConfig(Section):
    enabled: bool = Field(
        False, description="Fold one source IP's attempts on many targets into one incident."
    )
    dry_run: bool = Field(True, description="Count would-be spray incidents without opening them.")
    per_check: list[str] = Field(
        default_factory=lambda: list(SPRAY_CHECKS), description="Checks whose findings are tracked."
    )
    distinct_mailboxes: int = Field(
        10, ge=2, description="Distinct targets that open a spray incident."
    )
    severity_escalate_at: int = Field(
        50, ge=2, description="Distinct targets that make it CRITICAL."
    )
    max_tracked_ips: int = Field(
        10_000, ge=1, description="Source IPs tracked at once (oldest evicted)."
    )
    idle_reset: Duration = Field(
        timedelta(minutes=15), description="Tracking of an IP resets after this idle time."
    )


class IncidentsConfig(Section):
    merge_window: Duration = Field(
        timedelta(minutes=15),
        description="A finding joins its key's incident if within this of its span (a later"
        " one joins the key's open incident anyway, until it is closed).",
    )
    open_threshold: int = Field(
        2, ge=1, description="Sightings of a key within the merge window that open an incident."
    )
    timeline_cap: int = Field(
        500, ge=10, description="Timeline events kept per incident (first and last halves)."
    )
    fingerprint_cap: int = Field(5000, ge=10, description="Finding fingerprints kept per incident.")
    age_cap: Duration = Field(
        timedelta(days=30), description="Active incidents idle longer are closed (`auto:age_cap`)."
    )
    active_cap: int = Field(
        50_000, ge=1, description="Most active incidents; the oldest beyond are closed."
    )
    retention: Duration = Field(
        timedelta(days=30), description="Closed incidents are deleted after this."
    )
    require_backup_within: DurationOrOff = Field(
        timedelta(hours=24),
        description="Incident status changes need a `csm backup` this recent (0: no check).",
    )
    auto_close: AutoCloseConfig = Field(
        default_factory=AutoCloseConfig, description="Auto-close of idle incidents."
    )
    spray: SprayConfig = Field(
        default_factory=SprayConfig, description="Credential-spray super-incidents."
    )
