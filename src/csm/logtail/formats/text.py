"""How log lines become text.

A line is read as bytes and decoded as Latin-1 once: every byte maps to one character, so
decoding never fails and nothing is lost, and the parsers work on ``str`` (which Python and
the compiled hot path handle faster than ``bytes``).  A field that leaves a parser as text
(a sender, a subject, a login) is re-read as the UTF-8 it usually is, with invalid bytes
replaced; ASCII, the common case, is returned as it is.
"""

from __future__ import annotations


def line(raw: bytes) -> str:
    """One raw log line as a Latin-1 string (lossless; never fails)."""
    return raw.decode("latin-1")


def field(value: str) -> str:
    """A field of a Latin-1 line as the UTF-8 text it was written as."""
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "replace")
