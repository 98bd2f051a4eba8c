"""CSM's own nftables table, ``inet csm``, through the real ``nft`` (always :func:`csm.host.run`).

The table holds two sets of blocked sources with timeouts (``blocked4``, ``blocked6``: single
addresses and networks) and one set of stopped SMTP ports (``smtp_stopped``), and one input
chain that drops the blocked sources and resets connections to the stopped ports.  CSM changes
set elements only; nothing else on the machine (other tables, other chains) is touched, and the
chain's policy is accept.  Every address, network and port is validated before it reaches
``nft``."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from csm.errors import CommandError, UsageError
from csm.host import Host

TABLE: Final = "csm"
CHAIN: Final = "input"
SETS: Final = {4: "blocked4", 6: "blocked6"}
PORTS: Final = "smtp_stopped"
RULES: Final = (
    ("blocked4", "ip saddr @blocked4 drop"),
    ("blocked6", "ip6 saddr @blocked6 drop"),
    (PORTS, f"tcp dport @{PORTS} reject with tcp reset"),
)
SCRIPT: Final = f"""table inet {TABLE} {{
    set blocked4 {{ type ipv4_addr; flags interval, timeout; }}
    set blocked6 {{ type ipv6_addr; flags interval, timeout; }}
    set {PORTS} {{ type inet_service; }}
    chain {CHAIN} {{
        type filter hook input priority filter - 10; policy accept;
    }}
}}
"""
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Element:
    """A blocked address or network in the table, and the seconds before its block ends."""

    network: str  # "192.0.2.7/32", "2001:db8::/64"
    expires: int | None  # None: no timeout


def network(text: str) -> Network:
    """An address or a CIDR network, as a network (a host route for a single address);
    host bits set (``192.0.2.7/24``) are an error, not silently dropped."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as exc:
        raise UsageError(f"{text!r} is not an IP address or a CIDR network: {exc}") from None


def port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise UsageError(f"{value} is not a TCP port")
    return value


@dataclass(frozen=True, slots=True)
class Nft:
    host: Host
    nft_bin: str
    timeout: float

    def ensure(self) -> None:
        """The table, its sets, chain and rules, created when missing (nothing else changed)."""
        table = self._table()
        if table is None:
            self._run("-f", "-", stdin=SCRIPT.encode())
            table = self._table() or []
        present = json.dumps([r for r in table if "rule" in r])
        for set_name, rule in RULES:
            if f"@{set_name}" not in present:
                self._run("add", "rule", "inet", TABLE, CHAIN, *rule.split())

    def block(self, net: Network, timeout: timedelta | None) -> None:
        self.ensure()
        spec = str(net) + (f" timeout {int(timeout.total_seconds())}s" if timeout else "")
        self._run("add", "element", "inet", TABLE, SETS[net.version], f"{{ {spec} }}")

    def unblock(self, net: Network) -> bool:
        """Take ``net`` out of its set; False when it was not there (expired, or never)."""
        if str(net) not in {e.network for e in self.blocked()}:
            return False
        self._run("delete", "element", "inet", TABLE, SETS[net.version], f"{{ {net} }}")
        return True

    def blocked(self) -> list[Element]:
        """The blocked addresses and networks now in the table."""
        found: list[Element] = []
        for item in self._table() or []:
            listed = item.get("set")
            if isinstance(listed, dict) and listed.get("name") in SETS.values():
                found += [_element(e) for e in _list(listed.get("elem"))]
        return found

    def stop_ports(self, ports: tuple[int, ...]) -> None:
        self.ensure()
        listed = ", ".join(str(port(p)) for p in ports)
        self._run("add", "element", "inet", TABLE, PORTS, f"{{ {listed} }}")

    def open_ports(self, ports: tuple[int, ...]) -> None:
        """Take ``ports`` out of the stopped set (those not in it are left alone)."""
        present = [p for p in ports if p in self.stopped_ports()]
        if present:
            listed = ", ".join(str(port(p)) for p in present)
            self._run("delete", "element", "inet", TABLE, PORTS, f"{{ {listed} }}")

    def stopped_ports(self) -> set[int]:
        for item in self._table() or []:
            listed = item.get("set")
            if isinstance(listed, dict) and listed.get("name") == PORTS:
                return {int(p) for p in _list(listed.get("elem")) if isinstance(p, int)}
        return set()

    def _table(self) -> list[dict[str, Any]] | None:
        """The table's objects as ``nft -j`` lists them; None when there is no table."""
        done = self.host.runner(
            [self.nft_bin, "-j", "list", "table", "inet", TABLE], timeout=self.timeout, check=False
        )
        if done.returncode != 0:
            error = done.stderr.decode("utf-8", "replace")
            if "No such file or directory" in error:
                return None
            raise CommandError(f"nft could not list table inet {TABLE}: {error.strip()[-300:]}")
        try:
            items = json.loads(done.stdout)["nftables"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"nft printed an unreadable listing: {exc}") from None
        return [i for i in items if isinstance(i, dict)]

    def _run(self, *args: str, stdin: bytes | None = None) -> None:
        self.host.runner([self.nft_bin, *args], timeout=self.timeout, stdin=stdin)


def _list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else []


def _element(raw: Any) -> Element:
    """One set element as ``nft -j`` writes it (a bare address, a prefix, a range, or one of
    them wrapped in ``{"elem": {"val": …, "timeout": s, "expires": s}}``); anything else is a
    :class:`CommandError`, never a crash."""
    try:
        return _read_element(raw)
    except (ValueError, TypeError, KeyError, AttributeError, StopIteration):
        raise CommandError(f"nft listed an element CSM cannot read: {str(raw)[:80]!r}") from None


def _read_element(raw: Any) -> Element:
    expires = None
    if isinstance(raw, dict) and "elem" in raw:
        expires = raw["elem"].get("expires")
        raw = raw["elem"].get("val")
    if isinstance(raw, dict) and "prefix" in raw:
        text = f"{raw['prefix']['addr']}/{raw['prefix']['len']}"
    elif isinstance(raw, dict) and "range" in raw:
        first, last = raw["range"]
        text = str(next(ipaddress.summarize_address_range(_ip(first), _ip(last))))
    else:
        text = str(raw)
    if not isinstance(expires, int | None):
        raise TypeError("expires")
    return Element(str(ipaddress.ip_network(text, strict=False)), expires)


def _ip(text: str) -> Any:
    return ipaddress.ip_address(text)
