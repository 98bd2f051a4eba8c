"""Low-and-slow spray: one mailbox failing from many addresses over hours, each address too
rarely to trip the per-IP windows (e.g. 40 failures an hour from 600 rotating addresses).

Memory is bounded: per mailbox the window keeps counts per step (a sixth of an hour by
default) and the latest time of at most ``KEPT_IPS`` addresses, never the lines; and at most
``TRACKED`` mailboxes are followed (the least recently failing are let go first)."""

from __future__ import annotations

from typing import Final

STEPS: Final = 36  # the window is counted in this many steps
TRACKED: Final = 20_000


class MailboxSpray:
    """One mailbox's failures in the window: counts per step, and its recent addresses."""

    __slots__ = ("alerted", "counts", "ips", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []  # the start of each step that has failures, oldest first
        self.counts: list[int] = []
        self.ips: dict[str, int] = {}  # address -> last failure, least recent first
        self.alerted = False  # found in this episode: not again until it falls below

    def add(self, at: int, ip: str, step: int, kept_ips: int) -> None:
        start = at - at % step
        if self.starts and self.starts[-1] >= start:
            self.counts[-1] += 1  # the same step (or a line a little out of order)
        else:
            self.starts.append(start)
            self.counts.append(1)
        ips = self.ips
        ips.pop(ip, None)
        ips[ip] = at
        if len(ips) > kept_ips:
            del ips[next(iter(ips))]

    def expire(self, horizon: int) -> None:
        """Forget the steps and addresses at or before ``horizon``."""
        drop = 0
        while drop < len(self.starts) and self.starts[drop] <= horizon:
            drop += 1
        if drop:
            del self.starts[:drop], self.counts[:drop]
        ips = self.ips
        while ips:
            oldest = next(iter(ips))
            if ips[oldest] > horizon:
                break
            del ips[oldest]

    @property
    def failures(self) -> int:
        return sum(self.counts)

    @property
    def latest(self) -> int:
        return self.starts[-1] if self.starts else 0


class SlowSpray:
    """Per mailbox: at least ``failures`` failures from at least ``ips`` addresses within
    ``seconds``; reported once per episode (until the mailbox falls below either again)."""

    def __init__(self, seconds: float, failures: int, ips: int) -> None:
        self.seconds = int(seconds)
        self.step = max(1, self.seconds // STEPS)
        self.failures = failures
        self.ips = ips
        self.kept_ips = max(ips, 1) * 4
        self.mailboxes: dict[str, MailboxSpray] = {}

    def add(self, at: int, mailbox: str, ip: str) -> tuple[int, int] | None:
        """Count one failure; the failures and addresses in the window when this one makes
        the mailbox a spray (first time in the episode), else None."""
        spray = self.mailboxes.pop(mailbox, None)
        if spray is None:
            spray = MailboxSpray()
            if len(self.mailboxes) >= TRACKED:
                self._let_go()
        self.mailboxes[mailbox] = spray  # the most recently failing last
        spray.add(at, ip, self.step, self.kept_ips)
        spray.expire(at - self.seconds)
        failures, ips = spray.failures, len(spray.ips)
        if failures < self.failures or ips < self.ips:
            spray.alerted = False
            return None
        if spray.alerted:
            return None
        spray.alerted = True
        return failures, ips

    def prune(self, now: int) -> None:
        """Forget the mailboxes with nothing left in the window."""
        horizon = now - self.seconds
        for mailbox in [m for m, s in self.mailboxes.items() if s.latest <= horizon]:
            del self.mailboxes[mailbox]

    def _let_go(self) -> None:
        for mailbox in list(self.mailboxes)[: TRACKED // 2]:
            del self.mailboxes[mailbox]
