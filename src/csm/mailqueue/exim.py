"""Exim's command line, always through :func:`csm.host.run` with ``-C`` when configured."""

from __future__ import annotations

from dataclasses import dataclass

from csm.config.model import MailConfig
from csm.errors import CommandError
from csm.host import Completed, Host

PROBE_CLIENT = "192.0.2.1"  # TEST-NET-1: a client address that is nobody's
HELD_REPLY = "is held by the hosting provider"  # csm/config/exim/hold.acl's message


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

    def defers(self, sender: str) -> bool:
        """Whether Exim defers SMTP mail from ``sender`` (CSM's hold ACL at work), asked with
        ``exim -bh``: a fake SMTP session that runs the ACLs and delivers nothing."""
        script = (
            f"EHLO csm-probe.invalid\r\nMAIL FROM:<{sender}>\r\n"
            f"RCPT TO:<postmaster@csm-probe.invalid>\r\nQUIT\r\n"
        )
        done = self.host.runner(
            self.argv("-bh", PROBE_CLIENT),
            timeout=self.mail.command_timeout,
            stdin=script.encode(),
            check=False,
        )
        return HELD_REPLY in done.text

    def macro(self, name: str) -> str | None:
        """A configuration macro's value (``exim -bP macro NAME``); None when not defined."""
        done = self.run("-bP", "macro", name)
        key, sep, value = done.text.strip().partition("=")
        return value.strip() if done.returncode == 0 and sep and key.strip() == name else None

    def count(self) -> int:
        """The number of queued messages, as ``exim -bpc`` prints it."""
        done = self.host.runner(self.argv("-bpc"), timeout=self.mail.command_timeout)
        text = done.text.strip()
        if not text.isdigit():
            raise CommandError(f"`exim -bpc` printed {text[:80]!r}, not a message count")
        return int(text)
