"""systemd's notification protocol (``sd_notify``): READY=1 once the watchers are attached,
WATCHDOG=1 pings, STOPPING=1; nothing at all outside systemd (no ``NOTIFY_SOCKET``)."""

from __future__ import annotations

import socket
from collections.abc import Mapping


def notify(state: str, env: Mapping[str, str]) -> bool:
    """Send ``state`` to systemd; whether there was a socket to send it to."""
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.connect(address)
            sock.sendall(state.encode())
        except OSError:
            return False
    return True


def watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Seconds between two watchdog pings (half systemd's ``WatchdogSec``), or None."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2_000_000 if usec > 0 else None
