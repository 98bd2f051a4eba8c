"""The queue index kept current while the daemon runs, so ``csm queue summary`` stays on its
fast path: the spool's input directory (and a split spool's subdirectories) watched with
inotify, a refresh a moment after Exim changes it; without inotify, a refresh every so often.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from csm.app import App
from csm.clock import isoformat
from csm.daemon.journal import event
from csm.errors import CsmError

SETTLE = 0.5  # seconds after a change before the refresh (Exim writes several files)
FALLBACK = 30.0  # seconds between two refreshes without inotify (and as a safety net)


@dataclass(slots=True)
class SpoolStatus:
    mode: str = "off"  # inotify, polling, or off (not an Exim host)
    messages: int | None = None
    refreshed_at: str | None = None
    refreshes: int = 0
    error: str = ""


@dataclass
class SpoolWatch:
    app: App
    settle: float = SETTLE
    fallback: float = FALLBACK
    status: SpoolStatus = field(default_factory=SpoolStatus)

    @property
    def input_dir(self) -> Path:
        return self.app.host.path(self.app.config.mail.exim_spool) / "input"

    async def run(self, stop: asyncio.Event) -> None:
        if self.app.config.mail.mta != "exim":
            return
        changed = asyncio.Event()
        watcher = asyncio.create_task(self._inotify(changed, stop))
        try:
            while not stop.is_set():
                await self.refresh()
                await _first(changed.wait(), stop.wait(), timeout=self.fallback)
                changed.clear()
                await _first(stop.wait(), timeout=self.settle)
        finally:
            watcher.cancel()

    async def refresh(self) -> None:
        try:
            count = await asyncio.to_thread(self._refresh)
        except (CsmError, OSError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            if message != self.status.error:
                event("spool.unreadable", message, level=logging.WARNING)
            self.status.error = message
            return
        self.status.messages, self.status.error = count, ""
        self.status.refreshed_at = isoformat(self.app.clock.now())
        self.status.refreshes += 1

    def _refresh(self) -> int:
        with self.app.mail_queue() as queue:
            summary = queue.summary("account")  # a message counts once
        return summary.total.messages

    async def _inotify(self, changed: asyncio.Event, stop: asyncio.Event) -> None:
        try:
            from asyncinotify import Inotify, Mask  # noqa: PLC0415
        except ImportError:  # pragma: no cover - a dependency, but a host may lack inotify
            self.status.mode = "polling"
            return
        mask = Mask.CREATE | Mask.DELETE | Mask.MOVED_TO | Mask.MOVED_FROM | Mask.ONLYDIR
        while not self.input_dir.is_dir():  # Exim makes it with the first message queued
            self.status.mode = "polling"
            await _first(stop.wait(), timeout=1.0)
            if stop.is_set():
                return
        changed.set()
        try:
            with Inotify() as inotify:
                for directory in [self.input_dir, *_subdirectories(self.input_dir)]:
                    inotify.add_watch(directory, mask)
                self.status.mode = "inotify"
                async for found in inotify:
                    if found.mask & Mask.ISDIR and found.mask & Mask.CREATE and found.path:
                        inotify.add_watch(found.path, mask)  # a new split-spool directory
                    changed.set()
        except OSError as exc:  # no inotify (limits, a filesystem without it): poll
            self.status.mode = "polling"
            event("spool.polling", f"spool watched by polling: {exc}", level=logging.WARNING)


def _subdirectories(input_dir: Path) -> list[Path]:
    try:
        return [p for p in input_dir.iterdir() if p.is_dir() and len(p.name) == 1]
    except OSError:
        return []


async def _first(*waits: object, timeout: float) -> None:
    """Until one of ``waits`` (coroutines) finishes, or ``timeout`` seconds pass."""
    tasks = [asyncio.ensure_future(w) for w in waits]  # type: ignore[call-overload]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
