"""Lines of ``/var/log/maillog`` / ``/var/log/mail.log`` (§4.3): Dovecot's and Postfix's logins,
failed logins and auth-backend trouble, behind any syslog wrapper (``formats.syslog``)."""

from __future__ import annotations

from csm.logtail.formats import dovecot, postfix, syslog
from csm.logtail.formats.events import AuthEvent


def parse(line: str, year: int) -> AuthEvent | None:
    """The event of a maillog line; None when it is none (other programs, other messages)."""
    wrapped = syslog.parse(line.rstrip("\r\n"), year)
    return event(wrapped) if wrapped is not None else None


def event(wrapped: syslog.SyslogLine) -> AuthEvent | None:
    """The event of a line already unwrapped."""
    program = wrapped.program
    if program.startswith("dovecot") or program == "":  # "": Dovecot's own log file
        return dovecot.parse(wrapped.time, wrapped.message)
    if postfix.is_smtpd(program):
        return postfix.parse(wrapped.time, wrapped.message)
    return None
