"""What the daemon records, as it records it, to every open event stream (server-sent events).

The daemon publishes on its event loop: each finding it recorded, then one ``incidents`` event
naming the incidents the batch created or touched.  Each stream has its own bounded queue; a
stream that cannot keep up loses the oldest events and is told so (a ``lagged`` event with
the count), so one slow browser never holds the daemon back."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from csm import jsonio
from csm.incidents.model import Finding, RecordResult

KEEPALIVE = 15.0  # seconds between two comments on an idle stream (proxies close silent ones)
QUEUE = 1000  # events kept per stream


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: str  # "finding", "incidents", "lagged"
    data: Any

    def encode(self) -> bytes:
        """One server-sent event: the JSON data on one ``data:`` line."""
        data = jsonio.dumps(self.data, pretty=False)
        return f"id: {self.id}\nevent: {self.kind}\ndata: {data}\n\n".encode()


class Stream:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(QUEUE)
        self.lost = 0

    def put(self, event: Event | None) -> None:
        while True:
            try:
                self.queue.put_nowait(event)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()
                self.lost += 1


class Feed:
    def __init__(self) -> None:
        self.streams: set[Stream] = set()
        self._ids = itertools.count(1)
        self.closed = False

    def publish(self, findings: Sequence[Finding], recorded: RecordResult) -> None:
        """A recorded batch: its findings, then the incidents it touched (on the loop)."""
        if not self.streams:
            return
        for finding in findings:
            self._send("finding", jsonio.to_jsonable(finding))
        touched = {
            "created": recorded.created,
            "merged": recorded.merged,
            "incidents": list(recorded.incidents),
        }
        self._send("incidents", touched)

    def close(self) -> None:
        """The daemon stops: every stream ends."""
        self.closed = True
        for stream in self.streams:
            stream.put(None)

    async def events(self, keepalive: float = KEEPALIVE) -> AsyncIterator[bytes]:
        """One stream's bytes until the feed closes (or the client goes: the caller stops)."""
        stream = Stream()
        self.streams.add(stream)
        try:
            yield b": connected\n\n"
            while not self.closed:
                try:
                    event = await asyncio.wait_for(stream.queue.get(), keepalive)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                if event is None:
                    return
                if stream.lost:
                    yield Event(next(self._ids), "lagged", {"lost": stream.lost}).encode()
                    stream.lost = 0
                yield event.encode()
        finally:
            self.streams.discard(stream)

    def _send(self, kind: str, data: Any) -> None:
        event = Event(next(self._ids), kind, data)
        for stream in self.streams:
            stream.put(event)
