"""``csm firewall block|unblock|list``: IP blocks with timeouts in CSM's nftables table.

Previewed unless applied; never an allowed address (:class:`~csm.firewall.policy.NeverBlocked`);
recorded before ``nft`` is asked (write first, then change) and audited.  The daemon's optional
automatic response blocks the source of brute-force findings (``firewall.auto_block``), at most
``auto_block_per_hour`` an hour; in ``dry-run`` it records what it would block."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from csm.audit import AuditLog
from csm.clock import Clock
from csm.config.response import FirewallConfig
from csm.errors import CsmError, NotFoundError, UsageError
from csm.firewall import repo
from csm.firewall.policy import NeverBlocked
from csm.incidents.model import Finding
from csm.nftables import Network, Nft, network
from csm.store.db import Store

SUBNET = {4: 24, 6: 64}  # a subnet spray is blocked as its /24 (IPv4) or /64 (IPv6)


@dataclass(frozen=True, slots=True)
class BlockResult:
    network: str
    applied: bool  # False: a preview, nothing changed
    expires_in: int | None  # seconds; None: until unblocked
    replaced: int = 0  # earlier blocks of the same network it replaces
    block: repo.Block | None = None


@dataclass(frozen=True, slots=True)
class UnblockResult:
    network: str
    applied: bool
    blocks: int  # recorded blocks it ends
    in_table: bool  # whether nftables still had it (not expired)


@dataclass(frozen=True, slots=True)
class Listed:
    block: repo.Block
    in_table: bool  # nftables has it now
    expires_in: int | None


@dataclass
class Firewall:
    store: Store
    audit: AuditLog
    clock: Clock
    nft: Nft
    settings: FirewallConfig
    never: NeverBlocked

    def block(
        self, target: str, reason: str, who: str, *, lasting: timedelta | None, apply: bool
    ) -> BlockResult:
        """Block ``target`` for ``lasting`` (None: the configured default; zero: no end)."""
        if not reason.strip():
            raise UsageError("a block needs a reason (--reason)")
        net = network(target)
        self.never.check(net)
        lasting = self.settings.block_for if lasting is None else lasting
        seconds = int(lasting.total_seconds()) or None
        earlier = self._active(str(net))
        if not apply:
            return BlockResult(str(net), False, seconds, len(earlier))
        return self._block(net, reason.strip(), who, seconds, earlier)

    def unblock(self, target: str, who: str, *, apply: bool) -> UnblockResult:
        net = network(target)
        active = self._active(str(net))
        in_table = str(net) in {e.network for e in self.nft.blocked()}
        if not active and not in_table:
            raise NotFoundError(f"{net} is not blocked", fix="csm firewall list")
        if not apply:
            return UnblockResult(str(net), False, len(active), in_table)
        self.nft.unblock(net)
        with self.store.transaction() as conn:
            repo.remove(conn, [b.id for b in active], self.clock.now(), who)
        self.audit.record(who, "firewall.unblock", str(net), {"blocks": len(active)})
        return UnblockResult(str(net), True, len(active), in_table)

    def listed(self, *, history: bool = False) -> list[Listed]:
        """The blocks in force (every record, dry-run ones too: ``history``)."""
        now = self.clock.now()
        table = {e.network: e.expires for e in self.nft.blocked()}  # no table: nothing
        found = repo.blocks(self.store.conn)
        shown = found if history else [b for b in found if b.active(now)]
        return [Listed(b, b.network in table, table.get(b.network)) for b in shown]

    def respond(self, findings: Sequence[Finding]) -> list[repo.Block]:
        """The automatic response to recorded findings (``firewall.auto_block``)."""
        mode = self.settings.auto_block
        if mode == "off":
            return []
        done: list[repo.Block] = []
        for finding in findings:
            net = self._source(finding)
            if net is None or self.never.why_not(net) or self._active(str(net)):
                continue
            if any(b.network == str(net) for b in done) or not self._under_cap():
                continue
            done.append(self._auto(net, finding, dry_run=mode == "dry-run"))
        return done

    # -- the work ---------------------------------------------------------------------------

    def _block(
        self, net: Network, reason: str, who: str, seconds: int | None, earlier: list[repo.Block]
    ) -> BlockResult:
        now = self.clock.now()
        expires = now + timedelta(seconds=seconds) if seconds else None
        record = repo.Block(0, str(net), reason, who, now, expires, "manual")
        with self.store.transaction() as conn:
            record = replace(record, id=repo.add(conn, record))
        try:
            if earlier:
                self.nft.unblock(net)  # its timeout changes: the element is made again
            self.nft.block(net, timedelta(seconds=seconds) if seconds else None)
        except CsmError:
            with self.store.transaction() as conn:
                repo.remove(conn, [record.id], self.clock.now(), "failed")
            raise
        with self.store.transaction() as conn:
            repo.remove(conn, [b.id for b in earlier], now, f"replaced by block {record.id}")
        details = {"reason": reason, "expires_in": seconds, "replaced": len(earlier)}
        self.audit.record(who, "firewall.block", str(net), details)
        return BlockResult(str(net), True, seconds, len(earlier), record)

    def _auto(self, net: Network, finding: Finding, *, dry_run: bool) -> repo.Block:
        now, lasting = self.clock.now(), self.settings.block_for
        reason = f"{finding.check}: {finding.message}"[:300]
        record = repo.Block(
            0, str(net), reason, "csm", now, now + lasting, "auto", finding.check, dry_run
        )
        with self.store.transaction() as conn:
            record = replace(record, id=repo.add(conn, record))
        if not dry_run:
            self.nft.block(net, lasting)
        action = "firewall.auto_block_dry_run" if dry_run else "firewall.auto_block"
        self.audit.record("csm", action, str(net), {"check": finding.check, "reason": reason})
        return record

    def _source(self, finding: Finding) -> Network | None:
        if finding.check not in self.settings.auto_block_checks or not finding.remote_ip:
            return None
        try:
            address = ipaddress.ip_address(finding.remote_ip)
        except ValueError:
            return None  # not an address (a log's odd field): nothing to block
        prefix = SUBNET[address.version] if finding.check.endswith("_subnet_spray") else None
        width = prefix or address.max_prefixlen
        return ipaddress.ip_network(f"{address}/{width}", strict=False)

    def _under_cap(self) -> bool:
        since = self.clock.now() - timedelta(hours=1)
        made = repo.auto_since(self.store.conn, since)
        return made < self.settings.auto_block_per_hour

    def _active(self, net: str) -> list[repo.Block]:
        now = self.clock.now()
        return [b for b in repo.blocks(self.store.conn, net) if b.active(now)]
