"""Postfix's SASL lines, from any ``smtpd`` service (``postfix/smtpd``,
``postfix/submission/smtpd``, ``postfix/smtps/smtpd``, a custom ``syslog_name``/smtpd).

- failure: ``warning: <name>[<ip>][:<port>]: SASL <MECH> authentication failed: <reason>``,
  with ``, sasl_username=<user>`` on 3.x when the client named one; ``Connection lost to
  authentication server`` is the backend's trouble; ``Invalid authentication mechanism``,
  ``Invalid base64 data`` and ``SASL <MECH> authentication aborted`` are refusals: no guess;
- success: ``<queue id>: client=<name>[<ip>][:<port>], sasl_method=…, sasl_username=<user>``.

``<name>`` is Postfix's verified reverse name (or ``unknown``), so the address is read from the
line's start; the user, the client's own text, last.
"""

from __future__ import annotations

from typing import Final

from csm.logtail.formats.address import ip_text
from csm.logtail.formats.events import BACKEND_ERROR, FAILURE, REFUSED, SUCCESS, AuthEvent
from csm.logtail.formats.text import field

FAILED: Final = " authentication failed"
ABORTED: Final = " authentication aborted"  # the client gave up: nothing was guessed
BACKEND: Final = "Connection lost to authentication server"
UNTRIED: Final = ("Invalid authentication mechanism", "Invalid base64 data")  # nothing guessed
UNKNOWN_USER: Final = "(unavailable)"
USER: Final = "sasl_username="


def is_smtpd(program: str) -> bool:
    """``smtpd`` under any service name (the part after the last ``/``)."""
    return program.rpartition("/")[2] == "smtpd"


def parse(when: int, message: str) -> AuthEvent | None:
    if message.startswith("warning: "):
        return _failure(when, message[9:])
    client = message.find(": client=")
    if client < 0 or USER not in message:
        return None
    found = _client(message, client + 9)
    if found is None:
        return None
    user = _value(message, found[1], ", " + USER)
    return AuthEvent(when, "smtp", SUCCESS, user, found[0]) if user else None


def _failure(when: int, rest: str) -> AuthEvent | None:
    found = _client(rest, 0)
    if found is None:
        return None
    ip, at = found
    if not rest.startswith(": SASL ", at):
        return None
    if rest.endswith(ABORTED) and " " not in rest[at + 7 : len(rest) - len(ABORTED)]:
        return AuthEvent(when, "smtp", REFUSED, "", ip)
    failed = rest.find(FAILED, at + 7)
    if failed < 0 or " " in rest[at + 7 : failed]:  # one mechanism name, in any spelling
        return None
    return _verdict(when, ip, rest[failed + len(FAILED) :])


def _verdict(when: int, ip: str, reason: str) -> AuthEvent:
    """What the text after ``authentication failed`` makes of the failure."""
    if BACKEND in reason:
        return AuthEvent(when, "smtp", BACKEND_ERROR, "", ip)
    if any(untried in reason for untried in UNTRIED):
        return AuthEvent(when, "smtp", REFUSED, "", ip)
    user = _value(reason, 0, USER)
    user = "" if user == UNKNOWN_USER else user
    return AuthEvent(when, "smtp", FAILURE, user, ip, summary=True)


def _client(text: str, start: int) -> tuple[str, int] | None:
    """``name[ip]`` or ``name[ip]:port`` at ``start``: the address and where the text after
    it begins."""
    close = text.find("]", start)
    opened = text.rfind("[", start, close) if close > 0 else -1
    if opened < 0 or " " in text[start:opened]:
        return None
    ip = ip_text(text[opened + 1 : close])
    if not ip:
        return None
    after = close + 1
    if text[after : after + 1] == ":" and text[after + 1 : after + 2].isdigit():
        after += 1
        while after < len(text) and text[after].isdigit():
            after += 1
    return ip, after


def _value(text: str, start: int, key: str) -> str:
    at = text.find(key, start)
    if at < 0:
        return ""
    at += len(key)
    stop = text.find(", ", at)
    return field(text[at : stop if stop >= 0 else len(text)])
