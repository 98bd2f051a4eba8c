"""The simulated host's cPanel commands: stand-ins for ``uapi`` and ``whmapi1`` (standard library
only), faithful to their documented command lines and reply shapes.  A drill host carries them
under its root (``/usr/local/cpanel/bin``); CSM calls them like the real tools and never knows."""

from __future__ import annotations

from pathlib import Path
from typing import Final

DIRECTORY: Final = Path(__file__).resolve().parent
TOOLS: Final = ("uapi", "whmapi1")
