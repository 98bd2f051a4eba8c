"""Exim's authentication failures, in every shape its versions and ``log_selector`` give.

``smtp_in.c`` writes ``<driver> authenticator failed for <client>: <reply>``, where

- ``<driver>`` is the authenticator's name in the configuration (``login``, ``plain``,
  ``dovecot_login``, ``fixed_login``, ``auth_plain``, …: any word);
- ``<client>`` is ``host_and_ident()``: ``H=`` (since 4.87; older versions write none), then
  ``[name ](helo) [ip]`` or ``name [ip]`` or ``[ip]``, ``:port`` with ``+incoming_port``, then
  `` I=[ip]:port`` (``+incoming_interface``), `` U=ident`` (RFC 1413) and, on 4.98+,
  `` Ci=N`` (``+connection_id``);
- ``<reply>`` is ``535 Incorrect authentication data`` for a refused password, ``435 …`` when
  the server could not check it, ``501 …`` for a cancelled or garbled exchange; then
  `` (set_id=<login>)`` when the client gave one (4.80+), and for a 435 the reason.

Log summarisers (logwatch, pflogsumm-like scripts) leave ``: N Time(s)`` at the end: the line
then stands for N failures (at most ``MOST_TIMES``).  The login is the client's own text: it is
read last, from the reply on, so it cannot move the client address.  A login can end the way a
summariser's count does (``(set_id=x): 9 Time(s)``), so a client can inflate its own count:
only findings about its own address and login grow, and an address that sends such a login is
guessing anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from csm.logtail.formats.exim import client
from csm.logtail.formats.text import field

MARKER: Final = " authenticator failed for "
MOST_TIMES: Final = 1000  # one summarised line stands for at most this many failures
REFUSED: Final = "535"


@dataclass(slots=True)
class AuthFailure:
    ip: str
    login: str  # set_id: what the client typed; "" when it gave none
    times: int  # 1, or the N of a summariser's ": N Time(s)"
    guess: bool  # a password was refused (535); False: the server could not check (4xx), or
    #              the client gave up or sent garbage (501), so nothing was guessed


def auth_failure(rest: str) -> AuthFailure | None:
    """The failure in an Exim line's text (after its time and pid); None when the line is not
    one or its client address cannot be read."""
    marker = rest.find(MARKER)
    if marker <= 0 or rest.find(" ", 0, marker) >= 0:  # Exim's own words open the line
        return None
    start = marker + len(MARKER)
    if rest.startswith("H=", start):
        start += 2
    body, times = _summarised(rest)
    found = client(body, start, len(body))
    if found is None:
        return None
    reply = _reply(body, max(start, found[2] - 1))
    code = body[reply : reply + 3] if reply >= 0 else ""
    login = _set_id(body, reply, code) if reply >= 0 else ""
    return AuthFailure(found[1], login, times, code in (REFUSED, ""))


def _summarised(rest: str) -> tuple[str, int]:
    """The line without a summariser's ``: N Time(s)``, and N (1 without one)."""
    if not rest.endswith(("Time(s)", "time(s)")):
        return rest, 1
    colon = rest.rfind(": ", 0, len(rest) - 7)
    count = rest[colon + 2 : len(rest) - 7].strip() if colon >= 0 else ""
    if not (count.isascii() and count.isdigit()):
        return rest, 1
    return rest[:colon], max(1, min(int(count), MOST_TIMES))


def _reply(body: str, at: int) -> int:
    """Where the SMTP reply code starts: the first ``: NNN`` after the client (its optional
    ``I=``, ``U=`` and ``Ci=`` fields come before); -1 when there is none."""
    while True:
        at = body.find(": ", at)
        if at < 0:
            return -1
        code = body[at + 2 : at + 5]
        if len(code) == 3 and code.isascii() and code.isdigit():
            return at + 2
        at += 2


def _set_id(body: str, reply: int, code: str) -> str:
    """The login of `` (set_id=…)``: to the line's last ``)`` after a refusal (nothing follows
    it there), else to the first ``): `` (the reason of a 435 follows)."""
    start = body.find(" (set_id=", reply)
    if start < 0:
        return ""
    start += 9
    end = body.find("): ", start) if code != REFUSED else -1
    if end < 0:
        end = body.rfind(")")
    return field(body[start:end]) if end >= start else ""
