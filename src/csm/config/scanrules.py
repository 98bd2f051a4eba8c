"""Scan rule packs: ``rules/database.yaml`` and ``rules/files.yaml`` (shipped), overridable
under ``scan.database`` and ``scan.files``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from csm.config.fields import Section
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


class PathRule(Section):
    check: str = Field(description="The finding's check name.")
    severity: Literal["CRITICAL", "HIGH", "WARNING"] = Field(description="Its severity.")
    description: str = Field(description="What it means, for the finding's message.")
    path_contains: str = Field("", description="Text the file's path must contain.")
    suffixes: list[str] = Field(description="Name endings (case-insensitive) it applies to.")


class FileRules(RulePack):
    PACK = "files.yaml"

    path_rules: list[PathRule] = Field(description="Findings from a file's path and name.")


def default_file_rules() -> FileRules:
    return FileRules.model_validate({})
