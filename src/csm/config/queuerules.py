"""The queue review rule pack: ``rules/queue.yaml`` (shipped), overridable under
``mail.queue_review``."""

from __future__ import annotations

from pydantic import Field

from csm.config.rulepack import RulePack


class QueueRules(RulePack):
    PACK = "queue.yaml"

    bounce_subjects: list[str] = Field(description="Subjects of delivery reports (bounces).")
    conversation_headers: list[str] = Field(description="Headers that mark a reply.")
    business_subjects: list[str] = Field(description="Subjects with obvious business value.")
    lead_subjects: list[str] = Field(description="Subjects of website form leads.")
    bulk_recipient_domains: int = Field(ge=2, description="Recipient domains that make bulk.")
    suspicious_mailers: list[str] = Field(description="X-Mailer values of mass mailers.")


def default_queue_rules() -> QueueRules:
    return QueueRules.model_validate({})
