"""Go's ``%q`` (``strconv.Quote``) for manifest values, and its inverse.

Operators and scripts read ``manifest.txt`` by key, as the Go CSM writes it, so quoted values
follow Go exactly: ``\\"`` and ``\\\\``; ``\\a \\b \\f \\n \\r \\t \\v``; other ASCII controls
and every byte that is not valid UTF-8 as ``\\xHH``; runes Go does not count as printable
(anything but letters, marks, numbers, punctuation, symbols and the ASCII space) as ``\\uHHHH``
or ``\\UHHHHHHHH``; everything else as itself.  A quoted value therefore never holds a raw
control character or line break.

Text that came from ``os.fsdecode`` carries undecodable bytes as surrogate escapes; they are
quoted as the bytes they stand for, as Go quotes a string holding those bytes.  (Python's
Unicode tables decide "printable"; for characters assigned in a newer Unicode than Go's they
can differ, which changes only whether such a character is escaped.)
"""

from __future__ import annotations

import unicodedata
from typing import Final

_SIMPLE: Final = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}
_UNSIMPLE: Final = {
    "a": 0x07,
    "b": 0x08,
    "f": 0x0C,
    "n": 0x0A,
    "r": 0x0D,
    "t": 0x09,
    "v": 0x0B,
    "\\": 0x5C,
    '"': 0x22,
}
_HEX_WIDTH: Final = {"x": 2, "u": 4, "U": 8}
_ESCAPED_BYTES: Final = range(0xDC80, 0xDD00)  # os.fsdecode's escapes of undecodable bytes


def go_quote(value: str | bytes) -> str:
    """``value`` as Go's ``fmt.Sprintf("%q", value)`` prints it (quotes included)."""
    text = as_bytes(value).decode("utf-8", "surrogateescape")
    return '"' + "".join(_quoted(ch) for ch in text) + '"'


def go_unquote(quoted: str) -> bytes:
    """The bytes a Go double-quoted string literal stands for (``strconv.Unquote``).

    Raises ``ValueError`` on anything Go would refuse: a missing quote, a raw line break or
    quote inside, an unknown or short escape, a code point beyond Unicode or a surrogate."""
    if len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
        raise ValueError("not a double-quoted string")
    body, out, i = quoted[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch in '"\n':
            raise ValueError(f"unescaped {ch!r} inside a quoted string")
        if ch != "\\":
            out += ch.encode("utf-8", "surrogatepass")
            i += 1
            continue
        i = _escape(body, i + 1, out)
    return bytes(out)


def as_bytes(value: str | bytes) -> bytes:
    """The bytes a text stands for: its UTF-8, with surrogate escapes back as their bytes."""
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate from elsewhere: its surrogatepass bytes
        return b"".join(map(_char_bytes, value))


def _char_bytes(ch: str) -> bytes:
    if ord(ch) in _ESCAPED_BYTES or not 0xD800 <= ord(ch) < 0xE000:
        return ch.encode("utf-8", "surrogateescape")
    return ch.encode("utf-8", "surrogatepass")


def _quoted(ch: str) -> str:
    code = ord(ch)
    if code in _ESCAPED_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    if ch in _SIMPLE:
        return _SIMPLE[ch]
    if printable(ch):
        return ch
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(ch: str) -> bool:
    """Go's ``strconv.IsPrint``: letters, marks, numbers, punctuation, symbols, ASCII space."""
    return ch == " " or unicodedata.category(ch)[0] in "LMNPS"


def _escape(body: str, i: int, out: bytearray) -> int:
    """Decode the escape whose letter is at ``body[i]`` into ``out``; the index after it."""
    if i >= len(body):
        raise ValueError("a quoted string ends in a backslash")
    letter = body[i]
    if letter in _UNSIMPLE:
        out.append(_UNSIMPLE[letter])
        return i + 1
    if letter in _HEX_WIDTH:
        return _hex(body, i, out)
    if letter in "01234567":
        digits = body[i : i + 3]
        if len(digits) < 3 or any(d not in "01234567" for d in digits) or int(digits, 8) > 0xFF:
            raise ValueError(f"invalid octal escape \\{digits}")
        out.append(int(digits, 8))
        return i + 3
    raise ValueError(f"unknown escape \\{letter}")


def _hex(body: str, i: int, out: bytearray) -> int:
    letter, width = body[i], _HEX_WIDTH[body[i]]
    digits = body[i + 1 : i + 1 + width]
    if len(digits) < width or any(d not in "0123456789abcdefABCDEF" for d in digits):
        raise ValueError(f"invalid escape \\{letter}{digits}")
    code = int(digits, 16)
    if letter == "x":
        out.append(code)
    elif code > 0x10FFFF or 0xD800 <= code < 0xE000:
        raise ValueError(f"escape \\{letter}{digits} is not a Unicode code point")
    else:
        out += chr(code).encode("utf-8")
    return i + 1 + width
