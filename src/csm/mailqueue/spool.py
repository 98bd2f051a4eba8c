"""Exim's ``-H`` spool files, read directly (Exim spec, "Format of spool files").

A ``-H`` file holds, line by line: its own name; ``<login> <uid> <gid>`` of the submitter;
``<sender>``; ``<time> <warnings>``; ``-option [value]`` lines (Exim 4.96 writes tainted values
with a double dash: ``--auth_id x``; ``-aclc``/``-aclm`` variables carry a length and their
value on the next line); the tree of addresses already delivered (``XX`` when empty, else
``YN address`` lines, in order); the recipient count and the recipients; a blank line; then
the headers as ``NNNc text`` (NNN the length of the text, newlines included, c a flag).

Everything after line 1 comes from senders and remote clients: the parser takes lengths as
bounds, never trusts them past the data, and raises :class:`SpoolFormatError` (the reader
reports and skips the message) instead of guessing.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from typing import Final

from csm.mailqueue.model import HEADERS_KEPT, Header, QueuedMessage

MAX_HEADER_FILE: Final = 16 << 20
_HEADER: Final = re.compile(rb"(\d{3,8})(.) ")
_TREE: Final = re.compile(r"([YN])([YN]) (.*)")
_KEPT: Final = {name.lower() for name in HEADERS_KEPT}
_EXTENDED: Final = re.compile(r" \d+,-?\d+#\d+$")  # a recipient with DSN / errors_to data


class SpoolFormatError(ValueError):
    """A ``-H`` file that is not in Exim's format (or not whole)."""


class _Lines:
    """The top part of a -H file, line by line; the offset where the headers begin."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def next(self) -> str:
        end = self.data.find(b"\n", self.at)
        if end < 0:
            raise SpoolFormatError("the file ends in its envelope part")
        line = self.data[self.at : end].decode("utf-8", "replace")
        self.at = end + 1
        return line

    def skip(self, size: int) -> None:
        """Skip ``size`` bytes and the newline after them (an ACL variable's value)."""
        if size < 0 or self.at + size >= len(self.data):
            raise SpoolFormatError("a variable's value runs past the end of the file")
        self.at += size + 1


def parse(data: bytes, msgid: str, data_size: int) -> QueuedMessage:
    """One ``-H`` file's message; ``data_size`` is its ``-D`` file's size (for the size)."""
    if len(data) > MAX_HEADER_FILE:
        raise SpoolFormatError(f"the header file is over {MAX_HEADER_FILE} bytes")
    lines = _Lines(data)
    if lines.next() != f"{msgid}-H":
        raise SpoolFormatError("line 1 does not name this message")
    user, uid = _submitter(lines.next())
    sender = _sender(lines.next())
    received = _received(lines.next())
    options, line = _options(lines)
    delivered = _tree(lines, line)
    recipients = _recipients(lines)
    if lines.next() != "":
        raise SpoolFormatError("no blank line after the recipients")
    headers, header_size = _headers(data, lines.at)
    body = max(data_size - (len(msgid) + 3), 0) + 1 if data_size >= 0 else 0
    done = set(delivered)
    pending = tuple(r for r in recipients if r not in done)
    return QueuedMessage(
        id=msgid,
        received=received,
        size=header_size + body,
        frozen="frozen" in options,
        sender=sender,
        recipients=pending,
        delivered=tuple(delivered),
        local_user=user,
        uid=uid,
        auth_id=options.get("auth_id", ""),
        authenticator=options.get("host_auth", ""),
        protocol=options.get("received_protocol", ""),
        host_address=_address(options.get("host_address", "")),
        host_name=options.get("host_name", ""),
        headers=headers,
    )


def _submitter(line: str) -> tuple[str, int]:
    parts = line.split(" ")
    if len(parts) != 3 or not parts[1].isdigit():
        raise SpoolFormatError("line 2 is not '<login> <uid> <gid>'")
    return parts[0], int(parts[1])


def _sender(line: str) -> str:
    if not (line.startswith("<") and line.endswith(">")):
        raise SpoolFormatError("line 3 is not '<sender>'")
    return line[1:-1]


def _received(line: str) -> int:
    stamp = line.split(" ", maxsplit=1)[0]
    if not stamp.isdigit():
        raise SpoolFormatError("line 4 is not '<time> <warnings>'")
    return int(stamp)


def _options(lines: _Lines) -> tuple[dict[str, str], str]:
    """The ``-name value`` lines; and the first line after them."""
    options: dict[str, str] = {}
    line = lines.next()
    while line.startswith("-"):
        name, _, value = line.lstrip("-").partition(" ")
        if name in ("aclc", "aclm"):  # "-aclc <variable> <length>", the value on its own line
            size = value.rpartition(" ")[2]
            if not size.isdigit():
                raise SpoolFormatError(f"-{name} has no value length")
            lines.skip(int(size))
        else:
            options.setdefault(name, value)
        line = lines.next()
    return options, line


def _tree(lines: _Lines, first: str) -> list[str]:
    """The addresses already delivered (a binary tree written in order, ``XX`` when empty)."""
    if first == "XX":
        return []
    found, pending, line = [], 1, first
    while True:
        node = _TREE.fullmatch(line)
        if node is None:
            raise SpoolFormatError("the delivered-addresses tree is malformed")
        found.append(node.group(3))
        pending += (node.group(1) == "Y") + (node.group(2) == "Y") - 1
        if pending == 0:
            return found
        line = lines.next()


def _recipients(lines: _Lines) -> list[str]:
    count = lines.next()
    if not count.isdigit() or int(count) > len(lines.data):
        raise SpoolFormatError("no recipient count")
    recipients = []
    for _ in range(int(count)):
        line = lines.next()
        if _EXTENDED.search(line):  # "address <orcpt> <len>,<dsn> <errors_to> <len>,<pno>#3"
            line = line.partition(" ")[0]
        recipients.append(line)
    return recipients


def _headers(data: bytes, at: int) -> tuple[tuple[Header, ...], int]:
    """The kept headers, and the size of all of them (as Exim counts a message's size)."""
    kept: list[Header] = []
    total = 0
    while at < len(data):
        found = _HEADER.match(data, at)
        if found is None:
            raise SpoolFormatError("a header is not 'NNNc text'")
        size, flag = int(found.group(1)), found.group(2).decode("latin-1")
        start = found.end()
        if start + size > len(data):
            raise SpoolFormatError("a header runs past the end of the file")
        total += size
        text = data[start : start + size].decode("utf-8", "replace")
        name, colon, value = text.partition(":")
        if colon and flag != "*" and name.strip().lower() in _KEPT:  # "*": deleted by Exim
            kept.append(Header(name.strip(), display(value), flag))
        at = start + size
    return tuple(kept), total


def display(value: str) -> str:
    """A header value unfolded, with RFC 2047 encoded words decoded where they are valid."""
    unfolded = " ".join(value.split())
    if "=?" not in unfolded:
        return unfolded
    try:
        return str(make_header(decode_header(unfolded)))
    except (ValueError, LookupError, UnicodeError, HeaderParseError):
        return unfolded


def _address(value: str) -> str:
    """``[203.0.113.42]:587`` (Exim 4.96) or ``203.0.113.42.587`` (older): the IP."""
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    head, dot, port = value.rpartition(".")
    return head if dot and port.isdigit() else value
