"""Hostile input on the way to ``nft``: any text as an address is a clear usage error or a
network that is safe to put in an argument; the never-blocked policy holds for every network;
any listing ``nft -j`` might print is read or refused, never a crash."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm.errors import CommandError, UsageError
from csm.firewall.policy import NeverBlocked
from csm.host import Completed, Host
from csm.nftables import Nft, network

SAFE = set("0123456789abcdefABCDEF.:/")


@given(st.text(max_size=80))
@settings(max_examples=400)
def test_any_text_is_a_network_or_a_usage_error(text: str) -> None:
    try:
        net = network(text)
    except UsageError:
        return
    assert set(str(net)) <= SAFE  # nothing that could reach nft as syntax


@given(
    st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)),
    st.integers(min_value=0, max_value=128),
)
def test_the_policy_never_lets_an_allowed_address_be_covered(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int
) -> None:
    prefix = min(prefix, address.max_prefixlen)
    net = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    allowed = ipaddress.ip_network(f"{address}/{address.max_prefixlen}")
    never = NeverBlocked.of([str(allowed)])
    assert never.why_not(net)  # it contains the allowed address: refused, whatever the width


@pytest.mark.parametrize(
    "target",
    [
        "0.0.0.0/0",
        "127.0.0.1",
        "::1",
        "10.0.0.0/7",
        "2000::/15",
        "224.0.0.1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "::ffff:192.0.2.7",
    ],
)
def test_what_is_never_blocked(target: str) -> None:
    assert NeverBlocked.of([]).why_not(network(target))


def test_an_ordinary_attacker_may_be_blocked() -> None:
    never = NeverBlocked.of(["192.0.2.0/24"], ["198.51.100.10"])
    assert never.why_not(network("203.0.113.7")) == ""
    assert never.why_not(network("198.51.100.0/24"))  # covers an infrastructure address


ELEMENT = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.builds(
        lambda a, n: {"prefix": {"addr": str(a), "len": n}},
        st.ip_addresses(v=4),
        st.integers(0, 32),
    ),
    st.builds(
        lambda a, t: {"elem": {"val": str(a), "timeout": t, "expires": t}},
        st.ip_addresses(v=6),
        st.integers(0, 10**6),
    ),
    st.text(max_size=20),
    st.integers(),
    st.none(),
)


def fake_nft(listing: bytes) -> Nft:
    def runner(argv: object, **_: object) -> Completed:
        return Completed(("nft",), 0, listing, b"", 0.0)

    return Nft(Host(Path("/"), runner), "nft", 5)


@given(st.lists(ELEMENT, max_size=8))
def test_any_listing_is_read_or_refused(elements: list[object]) -> None:
    listing = {"nftables": [{"set": {"name": "blocked4", "elem": elements}}]}
    nft = fake_nft(json.dumps(listing).encode())
    try:
        found = nft.blocked()
    except CommandError:
        return  # an element nft would never print: refused as such
    assert all(ipaddress.ip_network(e.network) for e in found)


@given(st.binary(max_size=200))
def test_garbage_from_nft_is_a_command_error(data: bytes) -> None:
    try:
        fake_nft(data).blocked()
    except CommandError:
        return
