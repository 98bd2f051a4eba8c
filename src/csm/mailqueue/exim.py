"""Exim's command line, always through :func:`csm.host.run` with ``-C`` when configured."""

from __future__ import annotations

from dataclasses import dataclass

from csm.config.model import MailConfig
from csm.errors import CommandError
from csm.host import Completed, Host


@dataclass(frozen=True, slots=True)
class Exim:
    mail: MailConfig
    host: Host

    def argv(self, *args: str) -> list[str]:
        base = [self.mail.exim_bin]
        if self.mail.exim_config:
            base += ["-C", str(self.host.path(self.mail.exim_config))]
        return base + list(args)

    def run(self, *args: str) -> Completed:
        """``exim ARGS`` (never raising on Exim's exit status: callers judge the outcome)."""
        return self.host.runner(self.argv(*args), timeout=self.mail.command_timeout, check=False)

    def count(self) -> int:
        """The number of queued messages, as ``exim -bpc`` prints it."""
        done = self.host.runner(self.argv("-bpc"), timeout=self.mail.command_timeout)
        text = done.text.strip()
        if not text.isdigit():
            raise CommandError(f"`exim -bpc` printed {text[:80]!r}, not a message count")
        return int(text)
