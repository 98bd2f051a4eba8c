"""Hosting profiles: is this a cPanel server, or a plain Linux mail/web host?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from csm.config.model import Config
from csm.host import Host

CPANEL_MARKERS = ("/usr/local/cpanel/version", "/var/cpanel/users", "/etc/trueuserdomains")


@dataclass(frozen=True, slots=True)
class Profile:
    panel: Literal["cpanel", "plain"]
    forced: bool
    evidence: tuple[str, ...]


def detect(config: Config, host: Host) -> Profile:
    """``hosting.panel`` when forced; otherwise cPanel when any of its layout markers exists."""
    found = tuple(marker for marker in CPANEL_MARKERS if host.path(marker).exists())
    if config.hosting.panel != "auto":
        return Profile(config.hosting.panel, True, found)
    return Profile("cpanel" if found else "plain", False, found)
