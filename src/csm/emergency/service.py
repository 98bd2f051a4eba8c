"""``csm mail stop|resume`` and ``csm mail emergency status``: the server-wide emergency stop.

The order is the operator's instinct in a spam attack (the second procedure in spec/): stop
outbound first (stay off blocklists), then inbound (remote servers retry later, so no one
else's mail is lost); find the sender, rotate, move the spam to the trash, and resume.  Each
step is previewed unless applied, recorded before anything changes (audit, store, the active
incidents), and completed by running it again when it was cut short.  The status says what is
stopped, since when, by whom, and the command that undoes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from csm.config.response import EmergencyConfig
from csm.emergency import repo
from csm.emergency.citadel import CitadelInbound, CitadelOutbound
from csm.emergency.controls import Controls
from csm.emergency.inbound import Inbound
from csm.emergency.model import EmergencyStatus, ResumeResult, StopResult, StopState
from csm.emergency.outbound import Outbound
from csm.emergency.record import Recorder
from csm.errors import CsmError, UsageError
from csm.incidents.model import Finding, Severity

DIRECTIONS = ("outbound", "inbound")
REMINDER = "mail_emergency_stop_lasting"  # the finding a stop older than remind_after raises


@dataclass
class Emergency:
    record: Recorder
    controls: Controls  # the flags Exim reads, or citserver's drop-in and SMTP ports
    outbound: Outbound | CitadelOutbound
    inbound: Inbound | CitadelInbound
    settings: EmergencyConfig

    def stop(
        self,
        direction: str,
        reason: str,
        who: str,
        *,
        apply: bool = False,
        firewall: bool = False,
        incident: str | None = None,
    ) -> StopResult:
        _direction(direction)
        if direction == "outbound":
            if firewall:
                raise UsageError("--firewall closes the SMTP ports: it goes with `stop inbound`")
            return self.outbound.stop(reason, who, apply=apply, incident=incident)
        return self.inbound.stop(reason, who, apply=apply, firewall=firewall, incident=incident)

    def resume(
        self, direction: str, who: str, *, apply: bool = False, approve: str = ""
    ) -> ResumeResult:
        _direction(direction)
        if self.record.open(direction) is None and self.controls.present(direction):
            return self._stray(direction, who, apply=apply)
        if direction == "outbound":
            return self.outbound.resume(who, apply=apply, approve=approve)
        if approve:
            raise UsageError("--approve thaws frozen messages: it goes with `resume outbound`")
        return self.inbound.resume(who, apply=apply)

    def _stray(self, direction: str, who: str, *, apply: bool) -> ResumeResult:
        """A stop no record accounts for (a stop record lost, a flag made by hand): taken
        away, so the mail server goes back to normal."""
        if apply:
            where = self.controls.where(direction)
            self.controls.lower(direction)
            self.record.audit.record(
                who, f"mail.resume_{direction}", direction, {"stray_flag": True, "was": where}
            )
        return ResumeResult(direction, apply, None, stray_flag=True)

    def status(self) -> EmergencyStatus:
        conn, now = self.record.store.conn, self.record.clock.now()
        shown: list[StopState] = []
        for direction in DIRECTIONS:
            for stop in repo.stops(conn, direction):
                counts = repo.counts(conn, stop.id)
                if stop.open or counts.get("left"):
                    shown.append(self._state(stop, counts, now - stop.started_at))
                if not stop.open:
                    break  # older stops are history
        open_directions = {s.stop.direction for s in shown if s.stop.open}
        stray = tuple(d for d in DIRECTIONS if d not in open_directions and self._present(d))
        problems: list[str] = []
        ports = self._ports(problems)
        missing_out, missing_in = self._installed(problems)
        return EmergencyStatus(
            tuple(d for d in DIRECTIONS if d in open_directions),
            tuple(shown),
            stray,
            ports,
            not missing_out,
            not missing_in,
            tuple(missing_out + missing_in),
            tuple(problems),
            tuple(self._warnings(shown, stray)),
        )

    def reminders(self) -> list[Finding]:
        """A finding for each stop older than ``remind_after``: one per period it lasts, so
        that it reminds again (deterministic origins: recording twice records once)."""
        now, every = self.record.clock.now(), self.settings.remind_after
        found = []
        for stop in repo.stops(self.record.store.conn):
            age = now - stop.started_at
            if not stop.open or age < every:
                continue
            periods = int(age / every)
            undo = stop.next_step
            hours = int(age.total_seconds()) // 3600
            found.append(
                Finding(
                    REMINDER,
                    Severity.HIGH,
                    f"{stop.direction} mail has been stopped for {hours}h"
                    f" ({stop.id}, by {stop.who}: {stop.reason}); when it is cleared: {undo}",
                    now,
                    details={"stop": stop.id, "direction": stop.direction, "undo": undo},
                    origin=f"{REMINDER}:{stop.id}:{periods}",
                )
            )
        return found

    def _state(self, stop: repo.Stop, counts: dict[str, int], age: timedelta) -> StopState:
        interrupted = stop.state in ("stopping", "resuming")
        return StopState(
            stop,
            int(age.total_seconds()),
            stop.open and age >= self.settings.remind_after,
            counts,
            self._present(stop.direction),
            interrupted,
            stop.next_step,
        )

    def _ports(self, problems: list[str]) -> tuple[int, ...]:
        try:
            return tuple(sorted(self.inbound.nft.stopped_ports()))
        except CsmError as exc:
            problems.append(f"nftables: {exc.message}")
            return ()

    def _installed(self, problems: list[str]) -> tuple[list[str], list[str]]:
        try:
            return self.controls.missing("outbound"), self.controls.missing("inbound")
        except CsmError as exc:
            problems.append(f"{self.controls.mta}: {exc.message}")
            return [], []

    def _present(self, direction: str) -> bool:
        try:
            return self.controls.present(direction)
        except CsmError:
            return False  # unreachable: _installed reports it

    def _warnings(self, shown: list[StopState], stray: tuple[str, ...]) -> list[str]:
        found = [
            f"{self.controls.where(d)} but no stop records it: the mail server acts on it"
            f" (csm mail resume {d} --apply takes it away)"
            for d in stray
        ]
        for state in shown:
            if state.interrupted:
                found.append(f"{state.stop.id} was interrupted: {state.next_step}")
            elif state.overdue:
                hours = state.age_seconds // 3600
                found.append(
                    f"{state.stop.direction} mail has been stopped for {hours}h:"
                    f" remember to undo it ({state.next_step})"
                )
            elif not state.stop.open:
                left = state.messages.get("left", 0)
                found.append(
                    f"{left} message(s) of {state.stop.id} stay frozen (credentials not rotated):"
                    " csm mail resume outbound --apply after rotating them"
                )
        return found


def _direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise UsageError(f"the direction is outbound or inbound, not {direction!r}")
