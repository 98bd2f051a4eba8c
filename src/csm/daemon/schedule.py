"""The daemon's scheduled work: each job runs every so often (never two runs of one job at
once), and what it last did is kept for ``csm status`` and ``csm doctor``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from csm.clock import isoformat


class Job(Protocol):
    @property
    def name(self) -> str: ...

    def run(self) -> str:
        """Do the work; a one-line summary of what was done (raises on failure)."""
        ...


@dataclass(slots=True)
class Planned:
    job: Job
    every: timedelta
    due_at: datetime
    runs: int = 0
    failures: int = 0
    running: bool = False
    last_at: datetime | None = None
    last_result: str = ""
    last_error: str = ""
    last_seconds: float | None = None  # how long the last run took

    def status(self) -> dict[str, object]:
        return {
            "every": int(self.every.total_seconds()),
            "next_at": isoformat(self.due_at),
            "last_at": isoformat(self.last_at) if self.last_at else None,
            "last_result": self.last_result,
            "last_error": self.last_error,
            "last_seconds": self.last_seconds,
            "runs": self.runs,
            "failures": self.failures,
            "running": self.running,
        }


class Schedule:
    def __init__(self) -> None:
        self.planned: dict[str, Planned] = {}

    def add(self, job: Job, every: timedelta, now: datetime, *, first_after: timedelta) -> None:
        """Run ``job`` every ``every`` (a zero period: never), first ``first_after`` from now."""
        if every > timedelta(0):
            self.planned[job.name] = Planned(job, every, now + first_after)

    def due(self, now: datetime) -> list[Planned]:
        """The jobs to start now (each marked running until :meth:`finished`)."""
        found = [p for p in self.planned.values() if not p.running and p.due_at <= now]
        for planned in found:
            planned.running = True
        return found

    def finished(
        self, planned: Planned, now: datetime, result: str, error: str, seconds: float = 0.0
    ) -> None:
        planned.running, planned.last_at, planned.runs = False, now, planned.runs + 1
        planned.last_seconds = round(seconds, 3)
        planned.last_result, planned.last_error = result, error
        planned.failures += bool(error)
        planned.due_at = now + planned.every

    def status(self) -> dict[str, dict[str, object]]:
        return {name: planned.status() for name, planned in self.planned.items()}
