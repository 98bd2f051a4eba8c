"""Fields of the snapshot's ``.tsv`` files: one record a line, fields tab-separated.

File names and database values are attacker-controlled, so a field is escaped the way
MariaDB's own tab-separated output (``SELECT … INTO OUTFILE``) escapes it: ``\\\\``, ``\\t``,
``\\n``, ``\\r`` and ``\\0``; SQL NULL is ``\\N``.  Beyond that, other ASCII control characters
and bytes that are not valid UTF-8 (file names need not be) are written ``\\xHH``, and the C1
controls and Unicode line/paragraph separators ``\\uHHHH``.  Everything else
is the UTF-8 text itself, so a field never holds a raw tab or line break, ordinary names read
as they are, and :func:`unescape` gives back the exact bytes.
"""

from __future__ import annotations

import re
from typing import Final

from csm.forensic.quoting import as_bytes

NULL: Final = "\\N"
_SIMPLE: Final = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\\0"}
_UNSIMPLE: Final = {"\\": b"\\", "t": b"\t", "n": b"\n", "r": b"\r", "0": b"\x00"}
_NEEDS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\\\u2028\u2029\udc80-\udcff]")
_ESCAPE: Final = re.compile(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|.)", re.S)


def field(value: object) -> str:
    """One value as a field: bytes (a file name), text, a number, or None (NULL)."""
    if value is None:
        return NULL
    text = value if isinstance(value, str | bytes) else str(value)
    if isinstance(text, str) and text.isascii() and not _NEEDS.search(text):
        return text
    return _NEEDS.sub(_escaped, as_bytes(text).decode("utf-8", "surrogateescape"))


def record(values: tuple[object, ...] | list[object]) -> str:
    """A line: the fields tab-joined, with its newline."""
    return "\t".join(field(v) for v in values) + "\n"


def unescape(text: str) -> bytes | None:
    """The bytes a field stands for (None for ``\\N``)."""
    if text == NULL:
        return None
    out = bytearray()
    last = 0
    for match in _ESCAPE.finditer(text):
        out += text[last : match.start()].encode("utf-8", "surrogatepass")
        out += _unescaped(match.group(1))
        last = match.end()
    return bytes(out + text[last:].encode("utf-8", "surrogatepass"))


def _escaped(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _SIMPLE:
        return _SIMPLE[ch]
    code = ord(ch)
    if code >= 0xDC80:  # an undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def _unescaped(code: str) -> bytes:
    if code[0] == "x" and len(code) == 3:
        return bytes([int(code[1:], 16)])
    if code[0] == "u" and len(code) == 5:
        return chr(int(code[1:], 16)).encode("utf-8")
    return _UNSIMPLE.get(code, b"")
