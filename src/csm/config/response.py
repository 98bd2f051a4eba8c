"""Settings of the server-wide responses: the mail emergency stop and the firewall."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from csm.config.fields import Duration, HostPath, Port, Section

BRUTE_FORCE_CHECKS = (
    "smtp_bruteforce",
    "mail_bruteforce",
    "cpanel_bruteforce",
    "smtp_subnet_spray",
    "mail_subnet_spray",
    "cpanel_subnet_spray",
)


class EmergencyConfig(Section):
    flag_dir: HostPath = Field(
        "/var/lib/csm/mail",
        description="Where `csm mail stop` puts its flag files (`stop-outbound`, "
        "`stop-inbound`), read by the shipped Exim snippets through the macro "
        "`CSM_MAIL_FLAGS`: a directory Exim's user can read (made 0755).",
    )
    remind_after: Duration = Field(
        timedelta(hours=2),
        description="A stop older than this raises a finding (again each period) until resumed.",
    )
    smtp_ports: list[Port] = Field(
        default_factory=lambda: [25, 465, 587],
        min_length=1,
        description="The ports `csm mail stop inbound --firewall` closes.",
    )


class FirewallConfig(Section):
    nft_bin: str = Field("/usr/sbin/nft", description="The `nft` executable (nftables).")
    command_timeout: float = Field(15.0, gt=0, description="Seconds before `nft` is abandoned.")
    allow: list[str] = Field(
        default_factory=list,
        description="IPs and CIDRs never blocked (with `mail.infra_ips`, loopback and the "
        "default route).",
    )
    block_for: Duration = Field(
        timedelta(hours=24), description="How long a block lasts unless `--for` says otherwise."
    )
    auto_block: Literal["off", "dry-run", "on"] = Field(
        "off",
        description="Block the source of brute-force findings on its own: `off`, `dry-run` "
        "(record what it would block) or `on`.",
    )
    auto_block_checks: list[str] = Field(
        default_factory=lambda: list(BRUTE_FORCE_CHECKS),
        description="The findings (checks) whose source IP `auto_block` blocks.",
    )
    auto_block_per_hour: int = Field(
        50, ge=1, description="At most this many automatic blocks (or dry-run records) an hour."
    )

    @field_validator("allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return value
