"""Local and PHP mail per cPanel user: ``U=<user> P=local`` and ``B=redirect_resolver``
submissions, named with the sending script's directory from ``cwd=`` lines (as CSF's
``LF_SCRIPT_ALERT`` does)."""

from __future__ import annotations

from collections import Counter
from typing import Final

from csm.detectors.mail.context import SAMPLE, Alert, MailContext, Window, emit
from csm.incidents.model import Finding, Severity
from csm.logtail.formats.exim import Arrival

PIDS_KEPT: Final = 10_000
SYSTEM_USERS: Final = frozenset(
    {"root", "mailnull", "exim", "Debian-exim", "cpanel", "nobody", "mail"}
)


class LocalMail:
    def __init__(self, context: MailContext) -> None:
        self.context = context
        self.window = Window(context.rules.local_window.total_seconds())
        self.cwd_by_pid: dict[int, str] = {}
        self.last_cwd: dict[str, str] = {}  # user -> most recent script directory

    def cwd(self, pid: int, directory: str) -> None:
        """``cwd=/home/<user>/public_html/x N args: …``: where the next local message comes from."""
        self.cwd_by_pid[pid] = directory
        user = _home_user(directory)
        if user:
            self.last_cwd[user] = directory

    def prune(self, now: int) -> None:
        self.window.prune(now)
        if len(self.cwd_by_pid) > PIDS_KEPT:  # cwd= lines of processes that sent nothing
            self.cwd_by_pid.clear()

    def arrival(self, at: int, pid: int, msgid: str, mail: Arrival) -> list[Finding]:
        user = mail.user
        if not user or user in SYSTEM_USERS or mail.sender == "<>":
            return []
        if mail.protocol != "local" and mail.resolver != "redirect_resolver":
            return []
        directory = self.cwd_by_pid.pop(pid, "") if pid else ""
        directory = directory or self.last_cwd.get(user, "")
        events = self.window.add(user, at, f"{msgid} {directory}")
        rules = self.context.rules
        if len(events) not in (rules.local_warn, rules.local_critical):
            return []
        return self._emit(at, user, mail, events.recent())

    def _emit(self, at: int, user: str, mail: Arrival, values: list[str]) -> list[Finding]:
        critical = len(values) >= self.context.rules.local_critical
        places = Counter(v.split(" ", 1)[1] for v in values if " " in v and v.split(" ", 1)[1])
        script_dir = places.most_common(1)[0][0] if places else ""
        where = f" from {script_dir}" if script_dir else ""
        samples = [v.split(" ")[0] for v in values[-SAMPLE:]]
        message = (
            f"cPanel user {user} sent {len(values)} local/PHP messages in {self.window.span}{where}"
            f" (sender {mail.sender}); e.g. {', '.join(samples)}"
        )
        severity = Severity.CRITICAL if critical else Severity.HIGH
        subject = f"{user}:{severity}"  # the critical crossing is news after the warning
        details = {"count": len(values), "script_dir": script_dir, "sample_messages": samples}
        alert = Alert(
            "email_php_relay_abuse",
            severity,
            message,
            at,
            account=user,
            path=script_dir,
            subject=subject,
            details=details,
        )
        return emit(self.context, alert)


def _home_user(directory: str) -> str:
    parts = directory.split("/")
    if len(parts) > 2 and parts[1].startswith("home"):
        return parts[2]
    return ""
