"""Scan rule packs: ``rules/database.yaml`` (shipped), overridable under ``scan.database``."""

from __future__ import annotations

from pydantic import Field

from csm.config.rulepack import RulePack


class DatabaseRules(RulePack):
    PACK = "database.yaml"

    malware_substrings: list[str] = Field(description="Script/loader text in an object body.")
    persistence_substrings: list[str] = Field(description="UDFs and file access in a body.")
    safe_script_domains: list[str] = Field(description="Domains a <script src> may load from.")
    role_escalation: str = Field(description="Regex: an UPDATE granting administrator.")
    hash_exfiltration: str = Field(description="Regex: reading WordPress password hashes.")
    magic_token: str = Field(description="Regex (group 1: the token): a display_name gate.")
    rogue_admin_days: int = Field(ge=1, description="Admins newer than this are candidates.")
    install_era_minutes: int = Field(ge=0, description="…unless this close to the first user.")
    disposable_mail: list[str] = Field(description="Mail providers of throwaway addresses.")
    allowlist: list[str] = Field(description="`account:schema:kind:name` objects to ignore.")


def default_database_rules() -> DatabaseRules:
    return DatabaseRules.model_validate({})
