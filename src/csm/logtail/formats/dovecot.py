"""Dovecot's login and auth lines (1.x to 2.4), as syslog or its own log file writes them.

Login processes (``imap-login``, ``pop3-login``, ``managesieve-login``, ``submission-login``,
…) write one line per connection: ``<svc>-login: [Info: ]<reason>: user=<…>, method=…,
rip=…, lip=…, …``.  The reason names the failures: ``Aborted login``, ``Disconnected``,
``Disconnected: Inactivity``, ``Login aborted: Connection closed`` (2.3.14+ and 2.4) …
followed by ``(auth failed, N attempts[ in S secs])``; 1.x wrote ``(N authentication
attempts)``; a proxy says ``(proxy dest auth failed)``.  ``Login`` / ``Logged in`` is a
success; any other end of a connection is an ``ENDED`` event (it settles what the auth
process logged for its session).  ``tried to use disabled`` (or
``disallowed``) ``plaintext auth``, 2.3's ``Login failed: Plaintext authentication disabled``
and ``unsupported auth mechanism`` are refusals before any password was checked.

The auth process (``auth``, ``auth-worker(pid)``, 1.x ``auth(default)``; with
``auth_verbose``) writes one line per failed attempt: ``<driver>(<user>,<ip>[,<session>]):
Password mismatch`` / ``unknown user`` / ``pam_authenticate() failed: …`` / ``invalid
credentials``.

The user is the client's own text: the address is read from the end of the line's fields
(``rip=`` last; the driver's last argument), so a user name cannot move it.
"""

from __future__ import annotations

import re
from typing import Final

from csm.logtail.formats.address import ip_text
from csm.logtail.formats.events import (
    BACKEND_ERROR,
    ENDED,
    FAILURE,
    MOST_ATTEMPTS,
    REFUSED,
    SUCCESS,
    AuthEvent,
)
from csm.logtail.formats.text import field

BACKEND_ERRORS: Final = ("cpdoveauthd.sock", "Temporary authentication failure")
REFUSALS: Final = (  # looked for in the lower-cased reason
    "plaintext auth",  # "tried to use disabled/disallowed plaintext auth", 2.3's "Login failed:
    #                    Plaintext authentication disabled"
    "unsupported auth mechanism",
)
SUCCESSES: Final = ("Login", "Logged in")
# What the auth process says of a failed attempt, after "<driver>(<user>,<ip>): ".
MISMATCHES: Final = (
    "Password mismatch",
    "password mismatch",
    "unknown user",
    "Unknown user",
    "User not known",
    "User not found",
    "pam_authenticate() failed",
    "invalid credentials",
    "Invalid credentials",
)
_ATTEMPTS: Final = re.compile(
    r"\(auth failed, (\d+) attempts?|\((\d+) authentication attempts?\)|\(proxy dest auth failed\)"
)
_DRIVER: Final = re.compile(
    r"(?:^|[ :>])(?:passwd-file|passwd|shadow|pam|sql|ldap|checkpassword|bsdauth|vpopmail"
    r"|static|imap|oauth2|lua|dict)\("
)


def parse(when: int, message: str) -> AuthEvent | None:
    """The event of a Dovecot message (what follows ``dovecot: ``), or None."""
    process, sep, rest = message.partition(": ")
    if not sep:
        return None
    if rest.startswith("Info: "):
        rest = rest[6:]
    if process.endswith("-login"):
        return _login(when, process[:-6], rest)
    return _auth(when, message)


def _login(when: int, service: str, rest: str) -> AuthEvent | None:
    start = _elements(rest)
    if start < 0:
        return None
    reason = rest[:start]
    counted = _ATTEMPTS.search(reason)
    if counted is not None:
        attempts = int(counted.group(1) or counted.group(2) or 1)  # a proxy's backend: one
        result = FAILURE
    elif reason in SUCCESSES:
        attempts, result = 1, SUCCESS
    elif any(refusal in reason.lower() for refusal in REFUSALS):
        attempts, result = 1, REFUSED
    else:
        attempts, result = 1, ENDED  # "Disconnected (no auth attempts)", "Internal login failure"
    user, ip = _user_and_ip(rest, start + 2)
    if not ip:
        return None
    attempts = max(1, min(attempts, MOST_ATTEMPTS))
    session = _session(rest, rest.rfind("rip=", start))
    return AuthEvent(when, service, result, user, ip, attempts, summary=True, session=session)


def _session(rest: str, start: int) -> str:
    """``session=<…>``, after the client address (Dovecot's own field, never the user's)."""
    at = rest.find("session=<", start)
    if at < 0:
        return ""
    close = rest.find(">", at)
    return rest[at + 9 : close] if close > 0 else ""


def _elements(rest: str) -> int:
    """Where the login fields start (the ``: `` before ``user=<``, ``method=`` or ``rip=``);
    -1 when there are none.  The reason before them is Dovecot's own text."""
    for key in (": user=<", ": method=", ": rip="):
        at = rest.find(key)
        if at >= 0:
            return at
    return -1


def _user_and_ip(rest: str, start: int) -> tuple[str, str]:
    rip = rest.rfind("rip=", start)
    if rip < 0 or rest[rip - 2 : rip] not in (", ", ": "):
        return "", ""
    stop = rest.find(",", rip)
    ip = ip_text(rest[rip + 4 : stop if stop >= 0 else len(rest)].strip())
    user = ""
    if rest.startswith("user=<", start):
        close = rest.rfind(">", start, rip)
        user = rest[start + 6 : close] if close >= 0 else ""
    return field(user), ip


def _auth(when: int, message: str) -> AuthEvent | None:
    if any(error in message for error in BACKEND_ERRORS):
        return AuthEvent(when, "auth", BACKEND_ERROR, "", "")
    driver = _DRIVER.search(message)
    if driver is None:
        return None
    opened = driver.end()
    verdict = max(message.rfind("): " + mismatch) for mismatch in MISMATCHES)
    if verdict < opened:
        return None
    who = message[opened:verdict].split(",")
    session = ""
    if len(who) > 2 and who[-1].startswith("<") and who[-1].endswith(">"):
        session = who.pop()[1:-1]  # 2.2+
    ip = ip_text(who[-1].strip()) if len(who) >= 2 else ""
    if not ip:
        return None
    user = ",".join(who[:-1])
    user = "" if user == "?" else field(user)
    return AuthEvent(when, "auth", FAILURE, user, ip, session=session)
