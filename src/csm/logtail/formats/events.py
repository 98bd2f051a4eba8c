"""What a maillog line says about a login: the event Dovecot's and Postfix's parsers return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

SUCCESS: Final = "success"
FAILURE: Final = "failure"
BACKEND_ERROR: Final = "backend_error"
REFUSED: Final = "refused"  # an attempt refused before any password was checked
ENDED: Final = "ended"  # a connection's end that is none of these ("Internal login failure")
MOST_ATTEMPTS: Final = 1000  # one line stands for at most this many failures


@dataclass(frozen=True, slots=True)
class AuthEvent:
    time: int
    service: str  # "imap", "pop3", "managesieve", "submission", "auth", "smtp" (Postfix SASL)
    result: str  # SUCCESS, FAILURE, BACKEND_ERROR, REFUSED or ENDED
    user: str
    ip: str
    attempts: int = 1  # failures this line stands for ("auth failed, 3 attempts")
    summary: bool = False  # a connection's end (login process, Postfix), repeating failures
    #                        its auth process may have logged one by one
    session: str = ""  # Dovecot's session id (2.2+), on its login and auth lines
