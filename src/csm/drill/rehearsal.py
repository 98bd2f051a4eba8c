"""``csm drill build``: a simulated hosting server to rehearse on, its Exim queue filled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from csm.clock import Clock
from csm.drill.build import DrillHost, build
from csm.drill.mailqueue import QueuePlan, build_queue


@dataclass(frozen=True, slots=True)
class Rehearsal:
    host: DrillHost
    queue: QueuePlan | None  # None: built with --no-queue


def rehearsal(
    root: Path, seed: int, clock: Clock, *, databases: bool = False, queue: bool = True
) -> Rehearsal:
    """The host under ``root`` (see :func:`csm.drill.build.build`), and with ``queue`` its Exim
    queue filled by driving the real Exim (mail, spam, frozen bounces)."""
    host = build(root, seed, clock, with_databases=databases)
    return Rehearsal(host, build_queue(host, seed) if queue else None)
