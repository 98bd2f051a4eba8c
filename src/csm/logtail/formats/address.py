"""Client addresses in log lines, validated once and remembered."""

from __future__ import annotations

import ipaddress
from typing import Final

_ADDRESSES: Final[dict[str, str]] = {}
_ADDRESSES_KEPT: Final = 100_000


def ip_text(raw: str) -> str:
    """A validated address (IPv4-mapped IPv6 as IPv4), or ""; results are cached, as the same
    addresses recur on every busy log."""
    found = _ADDRESSES.get(raw)
    if found is not None:
        return found
    try:
        address = ipaddress.ip_address(raw)
    except (ValueError, UnicodeDecodeError):
        text = ""
    else:
        mapped = getattr(address, "ipv4_mapped", None)
        text = str(mapped or address)
    if len(_ADDRESSES) >= _ADDRESSES_KEPT:
        _ADDRESSES.clear()
    _ADDRESSES[raw] = text
    return text


_NETWORKS: Final[dict[str, str]] = {}


def network(ip: str) -> str:
    """The /16 (IPv4) or /48 (IPv6) of a validated address: one "network" when counting where a
    mailbox is used from; "" for no address."""
    found = _NETWORKS.get(ip)
    if found is None:
        if "." in ip:
            first, second, _ = ip.split(".", 2)
            found = f"{first}.{second}.0.0/16"
        elif ":" in ip:
            found = str(ipaddress.ip_network(f"{ip}/48", strict=False))
        else:
            found = ""
        if len(_NETWORKS) >= _ADDRESSES_KEPT:
            _NETWORKS.clear()
        _NETWORKS[ip] = found
    return found
