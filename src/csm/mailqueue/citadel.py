"""Citadel's outbound queue as CSM's queue: each job of the queue room (its message and its
delivery instructions) is one queued message, whose id is the message's local number.

The views show the envelope (the instructions) and the message's headers; the body only on
request.  Citadel has no frozen state (outbound delivery is stopped for the whole server:
``csm mail stop outbound``), so freeze, thaw and release are refused.  Removing a job moves
both its messages into the trash room (a copy is kept in the quarantine first, with the
checksums); restoring checks them and moves both back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from csm.citadel import spoolout
from csm.citadel.client import Address, Session
from csm.citadel.spoolout import Instructions, Payload
from csm.errors import CommandError, CsmError, NotFoundError, RefusedError
from csm.mailqueue.model import HEADERS_KEPT, Header, QueuedMessage, QueueRead, SpoolProblem
from csm.mailqueue.repo import Kept
from csm.mailqueue.source import Action
from csm.mailqueue.spool import display
from csm.mailqueue.spoolcopy import Copied, private_dir, write

KEPT: Final = frozenset(h.lower() for h in HEADERS_KEPT)
NO_FREEZE: Final = (
    "Citadel's queue has no frozen state: `csm mail stop outbound` stops all outbound"
    " delivery, and `csm queue trash` moves reviewed jobs out of the queue"
)


@dataclass(frozen=True, slots=True)
class Job:
    instructions: Instructions
    payload: Payload


@dataclass
class CitadelQueue:
    address: Address
    queue_room: str
    trash_room: str
    _session: Session | None = field(default=None, repr=False)
    _jobs: dict[str, Job] | None = field(default=None, repr=False)
    _trashed: dict[str, dict[str, Job]] = field(default_factory=dict, repr=False)  # by room

    mta = "citadel"
    indexed_input = None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- reading ----------------------------------------------------------------------------

    def count(self) -> int:
        return len(self._read_jobs(fresh=True)[0])

    def read(self, now: int) -> QueueRead:
        jobs, problems = self._read_jobs(fresh=True)
        return QueueRead([as_queued(j) for j in jobs.values()], problems, "citadel")

    def message(self, msgid: str) -> QueuedMessage | None:
        job = self._job(msgid)
        return as_queued(job) if job is not None else None

    def header_file(self, msgid: str) -> bytes:
        job = self._present(msgid)
        return job.instructions.text + b"\n" + b"".join(h + b"\n" for h in job.payload.headers)

    def body_file(self, msgid: str) -> bytes:
        job = self._present(msgid)
        session = self.session()
        session.goto(self.queue_room)  # MSG2 reads messages of the current room only
        listed = session.message(job.payload.number)
        if listed is None:
            raise NotFoundError(f"message {msgid} left the queue while being read")
        return f"{msgid}-D\n".encode() + b"".join(
            line + b"\n" for line in spoolout.split(listed.lines)[1]
        )

    # -- actions ----------------------------------------------------------------------------

    def act(self, action: Action, ids: Sequence[str]) -> str:
        if action != "remove":
            raise RefusedError(NO_FREEZE)
        jobs = [j for j in (self._job(i) for i in ids) if j is not None]
        self._jobs = None  # read again when verified
        return self._move(jobs, self.queue_room, self.trash_room)

    def deliver(self, msgid: str) -> None:
        raise RefusedError(NO_FREEZE)

    def keep_copy(self, msgid: str, into: Path) -> Copied:
        job = self._job(msgid)
        if job is None:
            raise FileNotFoundError(msgid)
        private_dir(into)
        header = self.header_file(msgid)
        body = self.body_file(msgid)
        write(into / f"{msgid}-H", header, 0o600)
        write(into / f"{msgid}-D", body, 0o600)
        text_sum = spoolout.sha256_of(job.instructions.text)
        return Copied(self.trash_room, text_sum, job.payload.sha256, -1, -1, 0o600, 0o600)

    def put_back(self, kept_dir: Path, kept: Kept) -> None:
        room = kept.files.subdir or self.trash_room
        if room not in self._trashed:  # read once for every job restored from it
            self._trashed[room] = _jobs_of(spoolout.read(self.session(), room))
        job = self._trashed[room].pop(kept.msgid, None)
        if job is None:
            raise CsmError(
                f"job {kept.msgid} is not in the room {room!r}; its copy is in {kept_dir}",
                fix=f"csm queue quarantine show {kept.msgid}",
            )
        sums = (spoolout.sha256_of(job.instructions.text), job.payload.sha256)
        if sums != (kept.files.header_sha256, kept.files.data_sha256):
            raise CsmError(f"job {kept.msgid} in {room!r} does not match its checksums")
        self._jobs = None
        error = self._move([job], room, self.queue_room)
        if error:
            raise CommandError(error)

    # -- the room ---------------------------------------------------------------------------

    def session(self) -> Session:
        if self._session is None:
            self._session = Session(self.address)
        return self._session

    def _read_jobs(self, *, fresh: bool) -> tuple[dict[str, Job], list[SpoolProblem]]:
        if self._jobs is not None and not fresh:
            return self._jobs, []
        room = spoolout.read(self.session(), self.queue_room)
        problems = [
            SpoolProblem(str(i.msgid), f"{self.queue_room}/{i.number}", "its message is missing")
            for i in room.instructions
            if i.msgid not in room.payloads
        ]
        problems += [
            SpoolProblem(str(p.number), f"{self.queue_room}/{p.number}", "a line 000 cut it")
            for p in room.payloads.values()
            if p.cut_short
        ]
        self._jobs = _jobs_of(room)
        return self._jobs, problems

    def _job(self, msgid: str) -> Job | None:
        return self._read_jobs(fresh=False)[0].get(msgid)

    def _present(self, msgid: str) -> Job:
        job = self._job(msgid)
        if job is None:
            raise NotFoundError(f"message {msgid} left the queue while being read")
        return job

    def _move(self, jobs: Sequence[Job], source: str, target: str) -> str:
        if not jobs:
            return ""
        session = self.session()
        self._ensure_room(target)
        session.goto(source)
        numbers = ",".join(f"{j.payload.number},{j.instructions.number}" for j in jobs)
        reply = session.command("MOVE", numbers, target, "0")
        return "" if reply.kind == 2 else f"Citadel: {reply.code} {reply.text}"

    def _ensure_room(self, room: str) -> None:
        """The trash room, created invitation-only (type 3) when it does not exist."""
        session = self.session()
        if session.command("GOTO", room).kind == 2:
            return
        session.ok("CRE8", "1", room, "3", "", "0")


def _jobs_of(room: spoolout.Room) -> dict[str, Job]:
    return {
        str(i.msgid): Job(i, room.payloads[i.msgid])
        for i in room.instructions
        if i.msgid in room.payloads and not room.payloads[i.msgid].cut_short
    }


def as_queued(job: Job) -> QueuedMessage:
    steps, payload = job.instructions, job.payload
    headers = _headers(payload.headers)
    sender = steps.envelope_from or (steps.bounceto if "@" in steps.bounceto else "")
    return QueuedMessage(
        id=str(steps.msgid),
        received=steps.submitted,
        size=payload.size,
        frozen=False,
        sender=sender,
        recipients=steps.pending,
        delivered=steps.delivered,
        local_user=steps.bounceto if "@" not in steps.bounceto else "",
        headers=headers,
        source="citadel",
    )


def _headers(lines: Sequence[bytes]) -> tuple[Header, ...]:
    """The kept headers of a header block (continuation lines joined)."""
    joined: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", "replace")
        if line[:1] in (" ", "\t") and joined:
            joined[-1] += " " + line.strip()
        else:
            joined.append(line)
    kept = []
    for line in joined:
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() in KEPT:
            kept.append(Header(name.strip(), display(value), " "))
    return tuple(kept)
