"""The mail rule pack: defaults shipped as ``rules/mail.yaml``, overridable under ``mail.rules``."""

from __future__ import annotations

from pydantic import Field

from csm.config.fields import Duration
from csm.config.rulepack import RulePack

Count = int


class MailRules(RulePack):
    PACK = "mail.yaml"

    rate_window: Duration = Field(description="Window for outbound volume per mailbox.")
    rate_warn: Count = Field(ge=1, description="Messages per window: HIGH.")
    rate_critical: Count = Field(ge=1, description="Messages per window: CRITICAL.")
    fanout_warn: Count = Field(
        ge=1, description="Distinct recipients per mailbox per window: HIGH."
    )
    spread_window: Duration = Field(
        description="Window for one mailbox authenticating from many networks."
    )
    spread_networks: Count = Field(
        ge=2, description="Distinct /16 networks in the window: mailbox takeover."
    )
    cloud_window: Duration = Field(description="Window for submissions through cloud hosts.")
    cloud_sends: Count = Field(
        ge=1, description="Cloud-host submissions per mailbox in the window."
    )
    cloud_distinct_ips: Count = Field(
        ge=1, description="…or this many distinct cloud IPs (with 3+ sends)."
    )
    failure_then_success: Count = Field(ge=1, description="Failures before a success from one IP.")
    local_window: Duration = Field(description="Window for local/PHP mail per cPanel user.")
    local_warn: Count = Field(ge=1, description="Local/PHP messages per window: HIGH.")
    local_critical: Count = Field(ge=1, description="Local/PHP messages per window: CRITICAL.")
    brute_window: Duration = Field(description="Window for authentication failures.")
    brute_per_ip: Count = Field(ge=1, description="Failures from one IP in the window.")
    brute_subnet_ips: Count = Field(ge=2, description="Failing IPs in one /24 in the window.")
    brute_account_ips: Count = Field(
        ge=2, description="Failing IPs against one mailbox in the window."
    )
    spray_window: Duration = Field(
        description="Window for a low-and-slow spray on one mailbox (counted in 36 steps)."
    )
    spray_failures: Count = Field(ge=1, description="Failures on one mailbox in the spray window.")
    spray_ips: Count = Field(ge=2, description="…from at least this many addresses: a spray.")
    bounce_window: Duration = Field(description="Window for bounce storms.")
    bounce_storm: Count = Field(ge=1, description="Failed deliveries per sender in the window.")
    quiet: Duration = Field(
        description="The same finding for the same subject is not repeated within this."
    )
    cloud_ptr_suffixes: list[str] = Field(description="Host names of cloud providers.")
    leak_markers: list[str] = Field(description="Subject text that betrays SMTP credentials.")
    bulk_services: list[str] = Field(description="Bulk-mail services on authenticated submissions.")
    auth_rejection_markers: list[str] = Field(description="Rejection text blaming SPF/DKIM/DMARC.")


def default_rules() -> MailRules:
    return MailRules.model_validate({})
