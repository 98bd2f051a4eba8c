"""How many failures a maillog line stands for, when several lines name the same attempts.

Dovecot's auth process logs each failed attempt as it happens (``auth_verbose``); the login
process then logs the connection's end with the number of its failed attempts, and Postfix
(for SASL through Dovecot) logs each failure again.  Counted once:

- an attempt the auth process names with a session (2.2+) waits for its session's end: a
  failure line counts its own ``N attempts`` and settles the session; a success counts the
  attempts before it (a guessed password); any other end counts nothing (another passdb may
  have known the user: ``unknown user`` from the first, then ``Internal login failure``);
  a session that never ends is counted after ``HELD_SECONDS``;
- an attempt without a session (Dovecot 2.0/2.1, SASL for Postfix or Exim) counts at once,
  and a connection's end from the same address within the hour counts only the attempts
  not counted that way;
- one attempt logged once per passdb tried (same address, user and second) counts once.
"""

from __future__ import annotations

from typing import Final

from csm.detectors.mail.context import Recent
from csm.logtail.formats.events import FAILURE, SUCCESS, AuthEvent

HELD_SECONDS: Final = 3_600  # how long an attempt waits for its connection's end
DUE_EVERY: Final = 60  # held sessions are looked over at most this often (log time)
TRACKED: Final = 20_000

Counted = tuple[str, str, int]  # address, login, failures
Attempt = tuple[int, str, str]  # time, address, login


class Repeats:
    def __init__(self) -> None:
        self.held: Recent[tuple[int, int]] = Recent(TRACKED)  # ip -> (attempts, last time)
        self.sessions: Recent[list[Attempt]] = Recent(TRACKED)
        self.last: Attempt = (0, "", "")
        self.looked = 0

    def count(self, event: AuthEvent) -> list[Counted]:
        """The failures to count now, for an event of any result: its own, and attempts held
        earlier that no connection's end claimed in time."""
        found = self._due(event.time)
        if event.result == FAILURE:
            found += self._failure(event) if event.summary else self._attempt(event)
        elif event.session:
            found += self._ended(event)
        return found

    def _attempt(self, event: AuthEvent) -> list[Counted]:
        attempt = (event.time, event.ip, event.user)
        if attempt == self.last:
            return []  # the same attempt, logged by another passdb
        self.last = attempt
        if event.session:
            held = self.sessions.get(event.session)
            self.sessions.remember(event.session, [*(held or []), attempt])
            return []
        counted = self.held.get(event.ip)
        self.held.remember(event.ip, ((counted[0] if counted else 0) + 1, event.time))
        return [(event.ip, event.user, 1)]

    def _failure(self, event: AuthEvent) -> list[Counted]:
        if event.session:
            self.sessions.forget(event.session)
            return [(event.ip, event.user, event.attempts)]
        held = self.held.get(event.ip)
        attempts = event.attempts
        if held is not None and event.time - held[1] <= HELD_SECONDS:
            counted = min(held[0], attempts)
            self.held.remember(event.ip, (held[0] - counted, held[1]))
            attempts -= counted
        return [(event.ip, event.user, attempts)] if attempts else []

    def _ended(self, event: AuthEvent) -> list[Counted]:
        held = self.sessions.get(event.session)
        if held is None:
            return []
        self.sessions.forget(event.session)
        if event.result != SUCCESS:
            return []
        return [(ip, user, 1) for at, ip, user in held if at < event.time]

    def _due(self, now: int) -> list[Counted]:
        if now - self.looked < DUE_EVERY:
            return []
        self.looked = now
        found: list[Counted] = []
        for session, held in list(self.sessions.items.items()):
            if now - held[0][0] > HELD_SECONDS:
                self.sessions.forget(session)
                found += [(ip, user, 1) for _, ip, user in held]
        return found
