"""Dovecot and Postfix lines in ``/var/log/maillog`` / ``/var/log/mail.log`` (§4.3): logins,
failed logins, and auth-backend trouble."""

from __future__ import annotations

from dataclasses import dataclass

from csm.logtail.formats import syslog
from csm.logtail.formats.address import ip_text

LOGIN_SERVICES = (b"imap-login:", b"pop3-login:", b"managesieve-login:", b"submission-login:")
BACKEND_ERRORS = (
    b"cpdoveauthd.sock",
    b"Temporary authentication failure",
    b"auth-worker",
)


@dataclass(frozen=True, slots=True)
class AuthEvent:
    time: int
    service: str  # "imap", "pop3", "managesieve", "submission", "smtp" (postfix SASL)
    result: str  # "success", "failure", "backend_error"
    user: str
    ip: str


def parse(line: bytes, year: int) -> AuthEvent | None:
    wrapped = syslog.parse(line.rstrip(b"\r\n"), year)
    if wrapped is None:
        return None
    message = wrapped.message
    if wrapped.program == b"dovecot" or wrapped.program.startswith(b"dovecot"):
        return _dovecot(wrapped.time, message)
    if wrapped.program.startswith(b"postfix/") and b"sasl_username=" in message:
        return _postfix(wrapped.time, message)
    return None


def _dovecot(when: int, message: bytes) -> AuthEvent | None:
    if message.startswith(LOGIN_SERVICES):
        service = message[: message.index(b"-login:")].decode()
        return _login(when, service, message)
    if message.startswith(b"auth-worker") and any(e in message for e in BACKEND_ERRORS[:2]):
        return AuthEvent(when, "auth", "backend_error", "", "")
    if b"Temporary authentication failure" in message:
        return AuthEvent(when, "auth", "backend_error", "", "")
    return None


def _login(when: int, service: str, message: bytes) -> AuthEvent | None:
    if b"(auth failed" in message:
        result = "failure"
    elif b" Logged in: " in message or b" Login: " in message:
        result = "success"
    else:
        return None  # "Disconnected (no auth attempts)" and the like
    ip = ip_text(_field(message, b"rip=", b", "))
    user = _field(message, b"user=<", b">")
    if not ip:
        return None
    return AuthEvent(when, service, result, user.decode("utf-8", "replace"), ip)


def _postfix(when: int, message: bytes) -> AuthEvent | None:
    user = _field(message, b"sasl_username=", b", ")
    start = message.find(b"[")
    end = message.find(b"]", start + 1)
    ip = ip_text(message[start + 1 : end]) if 0 <= start < end else ""
    if not ip:
        return None
    result = "failure" if b"authentication failed" in message else "success"
    return AuthEvent(when, "smtp", result, user.decode("utf-8", "replace"), ip)


def _field(message: bytes, key: bytes, end: bytes) -> bytes:
    start = message.find(key)
    if start < 0:
        return b""
    start += len(key)
    stop = message.find(end, start)
    value = message[start:] if stop < 0 else message[start:stop]
    return value.rstrip(b",")
