"""What may reach an operator's terminal: text from outside (subjects, senders, paths, log
lines) with its control characters made visible (``\\x1b``), so that it cannot send escape
sequences or rewrite what is already on the screen.  Light: the quick paths use it."""

from __future__ import annotations

from typing import Final

_CONTROL: Final = {c: f"\\x{c:02x}" for c in [*range(32), *range(127, 160)] if c != 9}


def printable(value: object) -> str:
    return str(value).translate(_CONTROL)
