"""Client addresses in log lines, validated once and remembered."""

from __future__ import annotations

import ipaddress

_ADDRESSES: dict[bytes, str] = {}
_ADDRESSES_KEPT = 100_000


def ip_text(raw: bytes) -> str:
    """A validated address (IPv4-mapped IPv6 as IPv4), or ""; results are cached, as the same
    addresses recur on every busy log."""
    found = _ADDRESSES.get(raw)
    if found is not None:
        return found
    try:
        address = ipaddress.ip_address(raw.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        text = ""
    else:
        mapped = getattr(address, "ipv4_mapped", None)
        text = str(mapped or address)
    if len(_ADDRESSES) >= _ADDRESSES_KEPT:
        _ADDRESSES.clear()
    _ADDRESSES[raw] = text
    return text
