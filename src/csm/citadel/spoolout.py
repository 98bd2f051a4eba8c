"""The outbound SMTP queue room, ``__CitadelSMTPspoolout__`` (``docs/delivery-list.txt``).

Each job is two messages in the room: the message to deliver, and its delivery instructions
(subject ``QMSG``, content type ``application/x-citadel-delivery-list``), whose body lines are
``key|value``: ``msgid|N`` (the message's local number: the job's stable id, since Citadel
rewrites the instructions as a new message after each attempt), ``submitted|epoch``,
``attempted|epoch``, ``bounceto|addr``, ``envelope_from|addr``, ``source_room|room``,
``retry|seconds`` (older servers) and one ``remote|address|status|text`` per recipient
(status 0 not tried, 2 delivered, 3 and 4 temporary failures, 5 permanent failure)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from csm.citadel.client import Listed, Session

QUEUE_ROOM: Final = "__CitadelSMTPspoolout__"
DELIVERY_LIST: Final = "application/x-citadel-delivery-list"
PENDING: Final = frozenset({0, 3, 4})
DELIVERED: Final = 2


@dataclass(frozen=True, slots=True)
class Remote:
    address: str
    status: int
    text: str


@dataclass(frozen=True, slots=True)
class Instructions:
    number: int  # the instructions message's own number
    msgid: int  # the message to deliver (the job's id)
    submitted: int = 0
    attempted: int = 0
    bounceto: str = ""
    envelope_from: str = ""
    remotes: tuple[Remote, ...] = ()
    text: bytes = b""  # as listed (MSG2), for the quarantine copy and its checksum

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(r.address for r in self.remotes if r.status in PENDING)

    @property
    def delivered(self) -> tuple[str, ...]:
        return tuple(r.address for r in self.remotes if r.status == DELIVERED)


@dataclass(frozen=True, slots=True)
class Payload:
    """A message to deliver: its header block, its size and checksum (the body is read only
    when shown)."""

    number: int
    headers: tuple[bytes, ...]
    size: int
    sha256: str
    cut_short: bool = False  # a body line ``000`` ended the listing early


@dataclass(slots=True)
class Room:
    """What one read of a room found: its message numbers, the jobs' instructions, and the
    other messages (the payloads) by number."""

    numbers: list[int] = field(default_factory=list)
    instructions: list[Instructions] = field(default_factory=list)
    payloads: dict[int, Payload] = field(default_factory=dict)


def split(lines: Sequence[bytes]) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """A listed RFC 822 message's header lines and body lines."""
    for index, line in enumerate(lines):
        if not line:
            return tuple(lines[:index]), tuple(lines[index + 1 :])
    return tuple(lines), ()


def content_type(headers: Sequence[bytes]) -> str:
    for line in headers:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"content-type":
            return value.decode("utf-8", "replace").split(";")[0].strip().lower()
    return ""


def instructions(number: int, listed: Listed) -> Instructions | None:
    """The delivery instructions in a listed message (None: it is not an instructions message,
    or names no ``msgid``)."""
    headers, body = split(listed.lines)
    if content_type(headers) != DELIVERY_LIST and not _qmsg(headers, body):
        return None
    fields: dict[str, str] = {}
    remotes: list[Remote] = []
    for raw in body:
        key, _, value = raw.decode("utf-8", "replace").partition("|")
        if key == "remote":
            address, _, rest = value.partition("|")
            status, _, text = rest.partition("|")
            remotes.append(Remote(address.strip(), _int(status), text.rstrip("|")))
        elif key not in fields:
            fields[key] = value.strip()
    msgid = _int(fields.get("msgid", ""), -1)
    if msgid <= 0:
        return None
    return Instructions(
        number,
        msgid,
        _int(fields.get("submitted", "")),
        _int(fields.get("attempted", "")),
        fields.get("bounceto", ""),
        fields.get("envelope_from", ""),
        tuple(remotes),
        _text(listed.lines),
    )


def _qmsg(headers: Sequence[bytes], body: Sequence[bytes]) -> bool:
    """Instructions whose content type was lost on the way: subject ``QMSG``, ``msgid|`` first."""
    subject = any(h.lower().replace(b" ", b"") == b"subject:qmsg" for h in headers)
    return subject and bool(body) and body[0].startswith(b"msgid|")


def payload(number: int, listed: Listed) -> Payload:
    text = _text(listed.lines)
    return Payload(number, split(listed.lines)[0], len(text), sha256_of(text), listed.cut_short)


def read(session: Session, room: str) -> Room:
    """Every message of ``room``: instructions parsed, payloads without their bodies."""
    session.goto(room)
    found = Room(numbers=session.numbers())
    for number, listed in _listed(session, found):
        parsed = instructions(number, listed)
        if parsed is not None:
            found.instructions.append(parsed)
        else:
            found.payloads[number] = payload(number, listed)
    return found


def _listed(session: Session, room: Room) -> Iterator[tuple[int, Listed]]:
    for number in room.numbers:
        listed = session.message(number)
        if listed is None:
            continue  # delivered or moved meanwhile
        yield number, listed


def sha256_of(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def _text(lines: Sequence[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def _int(text: str, default: int = 0) -> int:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 20 else default
