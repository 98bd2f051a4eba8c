"""``csm daemon``: one asyncio process that holds the state lock, follows the mail logs
through the detectors into the incidents (positions stored with the findings), runs the
schedules, and answers on the control socket.

SIGTERM (and SIGINT) stops it after the lines read so far are recorded; SIGHUP reloads the
configuration (an invalid one is refused, logged, and the old one kept).  Under systemd it
says READY=1 once the watchers are started and pings the watchdog from the follow loop, so a
stuck loop gets the daemon restarted."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack, suppress
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from csm import app as composition
from csm.app import App
from csm.clock import isoformat
from csm.config.loader import LoadedConfig
from csm.daemon import jobs, notify
from csm.daemon.commands import Operations
from csm.daemon.control import ControlServer
from csm.daemon.journal import event
from csm.daemon.schedule import Planned, Schedule
from csm.daemon.spool import SpoolWatch
from csm.daemon.watch import LogWatch, Step
from csm.errors import ConfigError, CsmError
from csm.incidents.model import Finding
from csm.incidents.service import Incidents
from csm.operations.base import COMMAND
from csm.store import positions
from csm.store.lock import LOCK_NAME, StateLock
from csm.store.positions import LogPosition
from csm.version import __version__

if TYPE_CHECKING:
    from csm.api.server import ApiServer

SCHEDULE_TICK = 1.0  # seconds between two looks at the schedule
FIRST_HOUSEKEEPING = timedelta(minutes=1)
FIRST_EMERGENCY_CHECK = timedelta(seconds=5)  # a stop in force is in the log at once


class ConfigSource(Protocol):
    def load_config(self) -> LoadedConfig:
        """The configuration as it is on disk now (SIGHUP)."""
        ...


class Daemon:
    def __init__(
        self,
        app: App,
        source: ConfigSource,
        env: Mapping[str, str],
        *,
        replay_from: datetime | None = None,
    ) -> None:
        self.app, self.source, self.env = app, source, env
        self.replay_from = replay_from
        self.watches: list[LogWatch] = []
        self.schedule = Schedule()
        self.started_at = app.clock.now()
        self._incidents: Incidents | None = None
        self._services = ExitStack()
        self._pending: dict[str, Step] = {}  # read, not recorded yet (the store was busy)
        self._last: dict[str, LogPosition] = {}  # the last checkpoint of each watch
        self._stop = asyncio.Event()
        self._reload = asyncio.Event()
        self._binary = _package_hash()
        self.spool = SpoolWatch(app)
        self.api: ApiServer | None = None

    def run(self) -> dict[str, Any]:
        """Until SIGTERM; what the watchers and schedules did."""
        asyncio.run(self._main())
        return self._status({})

    # -- the process -----------------------------------------------------------------------

    async def _main(self) -> None:
        self._open()
        try:
            with StateLock(self.app.state_dir / LOCK_NAME):
                await self._serve()
        finally:
            self._close()

    async def _serve(self) -> None:
        socket_path = self.app.host.path(self.app.config.paths.control_socket)
        commands = {"ping": self._ping, "status": self._status}
        server = ControlServer(socket_path, commands, {COMMAND: Operations(self._app)})
        await server.start()
        if self.app.config.api.enabled:
            from csm.api.server import ApiServer  # noqa: PLC0415 - only when it is served

            self.api = ApiServer(self._app, lambda: self._status({}))
            await self.api.start()
            if self.api.listening.error:
                event("api.failed", self.api.listening.error, level=logging.ERROR)
        loop = asyncio.get_running_loop()
        for stop in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(stop, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload.set)
        notify.notify("READY=1", self.env)
        api = self.api.listening.url if self.api else ""
        event("daemon.started", "daemon started", pid=os.getpid(), socket=str(socket_path), api=api)
        try:
            await asyncio.gather(self._follow(), self._scheduled(), self.spool.run(self._stop))
        finally:
            notify.notify("STOPPING=1", self.env)
            self._step_all()  # what was read up to the signal is recorded
            if self.api is not None:
                await self.api.close()
            await server.close()
            event("daemon.stopped", "daemon stopped")

    def _open(self) -> None:
        """The incidents service and one watch per followed log, from the stored positions."""
        self._incidents = self._services.enter_context(self.app.incidents())
        stored = positions.load(self._incidents.store.conn)
        stored.update(self._last)  # after a reload: where this process got to
        context = self.app.mail_context()
        mail = self.app.config.mail
        logs = [("mainlog", mail.exim_mainlog, "exim"), ("maillog", mail.maillog, "maillog")]
        access = self.app.config.cpanel.access_log
        if self.app.panel == "cpanel" and self.app.host.path(access).exists():  # when present
            logs.append(("cpanel_access", access, "cpanel"))
        self.watches = [
            LogWatch.start(
                name,
                self.app.host.path(path),
                kind,
                context,
                self.app.clock,
                stored.get(name),
                replay_from=self.replay_from,
                cap=self.app.config.daemon.line_cap,
            )
            for name, path, kind in logs
        ]
        self._plan()

    def _close(self) -> None:
        for watch in self.watches:
            watch.close()
        self._services.close()
        self._services = ExitStack()

    def _plan(self) -> None:
        settings, now = self.app.config.daemon, self.app.clock.now()
        self.schedule = Schedule()
        critical = jobs.ScanAccounts("scan_critical", self.app, jobs.CRITICAL)
        deep = jobs.ScanAccounts("scan_deep", self.app, jobs.DEEP)
        self.schedule.add(
            critical, settings.scan_critical_every, now, first_after=settings.scan_critical_every
        )
        self.schedule.add(deep, settings.scan_deep_every, now, first_after=settings.scan_deep_every)
        self.schedule.add(
            jobs.Sweep(self.app), settings.sweep_every, now, first_after=FIRST_HOUSEKEEPING
        )
        if self.app.config.mail.mta in ("exim", "citadel"):
            stop = jobs.EmergencyReminder(self.app)
            every = settings.emergency_reminder_every
            self.schedule.add(stop, every, now, first_after=FIRST_EMERGENCY_CHECK)
        reminder = jobs.BackupReminder(self.app)
        self.schedule.add(
            reminder, settings.backup_reminder_every, now, first_after=FIRST_HOUSEKEEPING
        )

    # -- following -------------------------------------------------------------------------

    async def _follow(self) -> None:
        watchdog = notify.watchdog_interval(self.env)
        pinged = time.monotonic()
        while not self._stop.is_set():
            if self._reload.is_set():
                self._reload.clear()
                self._reload_config()
            self._step_all()
            if watchdog is not None and time.monotonic() - pinged >= watchdog:
                notify.notify("WATCHDOG=1", self.env)
                pinged = time.monotonic()
            await self._sleep(self.app.config.daemon.poll_interval)

    def _step_all(self) -> None:
        for watch in self.watches:
            step = self._pending.pop(watch.name, None) or watch.step()
            try:
                self._record(watch, step)
            except CsmError as exc:  # the store busy or failing: kept, tried again next tick
                self._pending[watch.name] = step
                event("store.retry", exc.message, level=logging.WARNING, watch=watch.name)

    def _record(self, watch: LogWatch, step: Step) -> None:
        assert self._incidents is not None
        checkpoint = step.checkpoint
        if step.findings:
            done = self._incidents.record(step.findings, checkpoint)
            if self.api is not None:
                self.api.recorded(step.findings, done)
            self._respond(step.findings)
            if done.created or done.merged:
                event(
                    "incidents.recorded",
                    "findings recorded",
                    watch=watch.name,
                    created=done.created,
                    merged=done.merged,
                    incidents=list(done.incidents),
                )
        elif checkpoint is not None and not _unchanged(
            checkpoint.position, self._last.get(watch.name)
        ):
            with self._incidents.store.transaction() as conn:
                checkpoint.write(conn)
        if checkpoint is not None:
            self._last[watch.name] = checkpoint.position

    def _respond(self, findings: Sequence[Finding]) -> None:
        """``firewall.auto_block``: the source of brute-force findings blocked (or, in dry-run,
        recorded); a failure is logged and monitoring goes on."""
        settings = self.app.config.firewall
        if settings.auto_block == "off":
            return
        if not any(f.check in settings.auto_block_checks and f.remote_ip for f in findings):
            return
        try:
            with self.app.firewall() as firewall:
                made = firewall.respond(findings)
        except CsmError as exc:
            event("firewall.failed", exc.message, level=logging.ERROR)
            return
        for block in made:
            verb = "would block (dry-run)" if block.dry_run else "blocked"
            event("firewall.auto_block", f"{verb} {block.network}", check=block.finding)

    def _reload_config(self) -> None:
        try:
            loaded = self.source.load_config()
        except ConfigError as exc:
            problems = [f"{p.path}: {p.message}" for p in exc.problems] or [exc.message]
            event(
                "config.refused",
                "new configuration refused; the old one stays",
                level=logging.ERROR,
                problems=problems,
            )
            return
        self._step_all()
        self._close()
        self.spool.app = self.app = composition.build(
            loaded, self.env, clock=self.app.clock, runner=self.app.host.runner
        )
        self.replay_from = None
        self._open()
        event("config.reloaded", "configuration reloaded", config_hash=loaded.sha256)

    async def _sleep(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    # -- schedules -------------------------------------------------------------------------

    async def _scheduled(self) -> None:
        running: set[asyncio.Task[None]] = set()
        while not self._stop.is_set():
            for planned in self.schedule.due(self.app.clock.now()):
                task = asyncio.create_task(self._run_job(planned))
                running.add(task)
                task.add_done_callback(running.discard)
            await self._sleep(SCHEDULE_TICK)

    async def _run_job(self, planned: Planned) -> None:
        result = error = ""
        began = time.monotonic()
        try:
            result = await asyncio.to_thread(planned.job.run)
        except CsmError as exc:
            error = exc.message + (f" ({exc.fix})" if exc.fix else "")
        except Exception as exc:  # a bug in a job must not stop the daemon
            error = f"{type(exc).__name__}: {exc}"
        seconds = time.monotonic() - began
        self.schedule.finished(planned, self.app.clock.now(), result, error, seconds)
        level = logging.WARNING if error else logging.INFO
        event(f"job.{planned.job.name}", error or result, level=level, job=planned.job.name)

    # -- control commands ------------------------------------------------------------------

    def _app(self) -> App:
        return self.app

    def _ping(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"pong": True, "pid": os.getpid()}

    def _status(self, args: dict[str, Any]) -> dict[str, Any]:
        now = self.app.clock.now()
        return {
            "version": __version__,
            "hostname": self.app.hostname,
            "pid": os.getpid(),
            "started_at": isoformat(self.started_at),
            "uptime_sec": int((now - self.started_at).total_seconds()),
            "watchers": {w.name: asdict(w.status()) for w in self.watches},
            "schedules": self.schedule.status(),
            "spool": asdict(self.spool.status),
            "api": self.api.status() if self.api else {"url": "", "error": "disabled"},
            "config_hash": self.app.loaded.sha256,
            "binary_hash": self._binary,
            "capabilities": ["follow", "schedules", "status", "reload", "operations"]
            + (["api"] if self.api and self.api.listening.url else []),
        }


def _unchanged(position: LogPosition, last: LogPosition | None) -> bool:
    """Whether ``last`` stored the same places (only its time differs)."""
    return last is not None and (position.path, position.read, position.resume) == (
        last.path,
        last.read,
        last.resume,
    )


def _package_hash() -> str:
    """A digest of CSM's installed code, to tell which code a running daemon runs."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
