"""Dovecot and Postfix lines in ``/var/log/maillog`` / ``/var/log/mail.log`` (§4.3): logins,
failed logins, and auth-backend trouble."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from csm.logtail.formats import syslog
from csm.logtail.formats.address import ip_text
from csm.logtail.formats.text import field

LOGIN_SERVICES: Final = (
    "imap-login:",
    "pop3-login:",
    "managesieve-login:",
    "submission-login:",
)
BACKEND_ERRORS: Final = (
    "cpdoveauthd.sock",
    "Temporary authentication failure",
    "auth-worker",
)


@dataclass(frozen=True, slots=True)
class AuthEvent:
    time: int
    service: str  # "imap", "pop3", "managesieve", "submission", "smtp" (postfix SASL)
    result: str  # "success", "failure", "backend_error"
    user: str
    ip: str


def parse(line: str, year: int) -> AuthEvent | None:
    wrapped = syslog.parse(line.rstrip("\r\n"), year)
    if wrapped is None:
        return None
    message = wrapped.message
    if wrapped.program == "dovecot" or wrapped.program.startswith("dovecot"):
        return _dovecot(wrapped.time, message)
    if wrapped.program.startswith("postfix/") and "sasl_username=" in message:
        return _postfix(wrapped.time, message)
    return None


def _dovecot(when: int, message: str) -> AuthEvent | None:
    if message.startswith(LOGIN_SERVICES):
        service = message[: message.index("-login:")]
        return _login(when, service, message)
    if message.startswith("auth-worker") and any(e in message for e in BACKEND_ERRORS[:2]):
        return AuthEvent(when, "auth", "backend_error", "", "")
    if "Temporary authentication failure" in message:
        return AuthEvent(when, "auth", "backend_error", "", "")
    return None


def _login(when: int, service: str, message: str) -> AuthEvent | None:
    if "(auth failed" in message:
        result = "failure"
    elif " Logged in: " in message or " Login: " in message:
        result = "success"
    else:
        return None  # "Disconnected (no auth attempts)" and the like
    ip = ip_text(_field(message, "rip=", ", "))
    user = _field(message, "user=<", ">")
    if not ip:
        return None
    return AuthEvent(when, service, result, field(user), ip)


def _postfix(when: int, message: str) -> AuthEvent | None:
    user = _field(message, "sasl_username=", ", ")
    start = message.find("[")
    end = message.find("]", start + 1)
    ip = ip_text(message[start + 1 : end]) if 0 <= start < end else ""
    if not ip:
        return None
    result = "failure" if "authentication failed" in message else "success"
    return AuthEvent(when, "smtp", result, field(user), ip)


def _field(message: str, key: str, end: str) -> str:
    start = message.find(key)
    if start < 0:
        return ""
    start += len(key)
    stop = message.find(end, start)
    value = message[start:] if stop < 0 else message[start:stop]
    return value.rstrip(",")
