"""The SMTP listeners in Citadel's site-wide configuration (WebCit: Administration, Edit
site-wide configuration, SMTP): ``c_smtp_port`` (MTA, 25), ``c_msa_port`` (MSA, 587) and
``c_smtps_port`` (SMTP over TLS, 465).  A port of ``-1`` disables that listener; citserver reads
the ports when it starts, so a change takes effect at its next restart.

Read and written with ``CONF GETVAL|key`` / ``CONF PUTVAL|key|value`` (the key-value
configuration), or, on a server that has no key-value configuration, the positional
``CONF GET`` / ``CONF SET`` listing (lines 24, 38 and 41, counted from 0)."""

from __future__ import annotations

from typing import Final

from csm.citadel.client import CIT_OK, LISTING_FOLLOWS, SEND_LISTING, Session
from csm.errors import CommandError

SMTP_PORTS: Final = {"c_smtp_port": 24, "c_msa_port": 38, "c_smtps_port": 41}
DISABLED: Final = -1


def smtp_ports(session: Session) -> dict[str, int]:
    """Each SMTP listener's port as configured (-1: disabled)."""
    if not _keyed(session):
        return _legacy(session)
    found: dict[str, int] = {}
    for key in SMTP_PORTS:
        found[key] = _port(key, session.ok("CONF", "GETVAL", key).fields[0])
    return found


def set_smtp_ports(session: Session, ports: dict[str, int]) -> None:
    """Set the listeners' ports (``-1`` disables one); the others are left as they are."""
    unknown = set(ports) - set(SMTP_PORTS)
    if unknown:
        raise CommandError(f"not an SMTP port setting: {', '.join(sorted(unknown))}")
    before = smtp_ports(session)
    if _keyed(session):
        for key, port in ports.items():
            session.ok("CONF", "PUTVAL", key, str(port))
    else:
        _set_legacy(session, ports)
    if smtp_ports(session) != {**before, **ports}:
        raise CommandError("Citadel's site configuration did not take the SMTP ports")


def _keyed(session: Session) -> bool:
    """Whether the server has the key-value configuration (``CONF GETVAL``)."""
    return session.command("CONF", "GETVAL", "c_smtp_port").kind == CIT_OK


def _legacy(session: Session) -> dict[str, int]:
    lines = _conf_get(session)
    return {key: _port(key, lines[index]) for key, index in SMTP_PORTS.items()}


def _set_legacy(session: Session, ports: dict[str, int]) -> None:
    lines = _conf_get(session)
    for key, port in ports.items():
        lines[SMTP_PORTS[key]] = str(port)
    session.ok("CONF", "SET", expect=SEND_LISTING)
    session.send_listing(lines)
    session.sync()  # some versions answer CONF SET's listing, some do not: skipped either way


def _conf_get(session: Session) -> list[str]:
    session.ok("CONF", "GET", expect=LISTING_FOLLOWS)
    lines = [line.decode("utf-8", "replace") for line in session.listing()]
    if len(lines) <= max(SMTP_PORTS.values()):
        raise CommandError(f"Citadel's CONF GET listing has {len(lines)} lines: too few")
    return lines


def _port(key: str, text: str) -> int:
    try:
        port = int(text.strip())
    except ValueError:
        raise CommandError(f"Citadel's {key} is not a number: {text!r}") from None
    if not -1 <= port <= 65535:
        raise CommandError(f"Citadel's {key} is out of range: {port}")
    return port
