"""What CSM never blocks: loopback and unspecified addresses, the default route and networks
too wide to be one attacker's, our own infrastructure (``mail.infra_ips``) and the operator's
allow list (``firewall.allow``), nor any network that contains one of them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from csm.errors import RefusedError
from csm.nftables import Network

WIDEST = {4: 8, 6: 16}
MAPPED = ipaddress.IPv6Network(
    "::ffff:0:0/96"
)  # IPv4 addresses written as IPv6  # the shortest prefix CSM blocks: wider is a typing mistake


@dataclass(frozen=True, slots=True)
class NeverBlocked:
    allowed: tuple[Network, ...]  # firewall.allow and mail.infra_ips

    @classmethod
    def of(cls, *lists: Iterable[str]) -> NeverBlocked:
        return cls(tuple(ipaddress.ip_network(i, strict=False) for items in lists for i in items))

    def why_not(self, net: Network) -> str:
        """Why ``net`` must not be blocked ("" when it may be)."""
        if net.prefixlen < WIDEST[net.version]:
            return f"{net} is wider than /{WIDEST[net.version]}: too wide to block"
        if net.is_loopback or net.is_unspecified or net.is_multicast:
            return f"{net} is a loopback, unspecified or multicast range"
        if isinstance(net, ipaddress.IPv6Network) and net.subnet_of(MAPPED):
            return f"{net} is IPv4-mapped: block the IPv4 address itself"
        for allowed in self.allowed:
            if allowed.version == net.version and net.overlaps(allowed):
                return f"{net} covers {allowed}, which is allowed (firewall.allow, mail.infra_ips)"
        return ""

    def check(self, net: Network) -> None:
        why = self.why_not(net)
        if why:
            raise RefusedError(
                f"not blocked: {why}",
                fix="block a narrower address or network (csm config show shows firewall.allow)",
            )
