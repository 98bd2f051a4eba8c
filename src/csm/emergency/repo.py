"""The mail stops in the store: one row per stop, and the queued messages an outbound stop
froze, each with its state (so that resuming thaws exactly those, and a rerun completes)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from csm.store.times import parse_ts, ts

# A stop's states: ``stopping`` (begun, not finished: rerun the stop), ``active``,
# ``resuming`` (begun, not finished: rerun the resume), ``resumed``.
OPEN_STATES: Final = ("stopping", "active", "resuming")
# A message's states: ``recorded`` (to be frozen), ``frozen`` (by the stop, or by the ACL while
# it lasted), ``thawed`` (by the resume), ``left`` (kept frozen at the resume: its account's
# credentials), ``trashed`` (moved to the queue quarantine), ``gone`` (no longer queued).
COLUMNS: Final = (
    "id, direction, state, reason, who, started_at, ports, incidents, resumed_at, resumed_by,"
    " approval, changes"
)


@dataclass(frozen=True, slots=True)
class Stop:
    id: str
    direction: str  # "outbound" or "inbound"
    state: str
    reason: str
    who: str
    started_at: datetime
    ports: tuple[int, ...] = ()  # inbound --firewall: the ports closed in nftables
    incidents: tuple[str, ...] = ()  # the incidents it was noted on
    resumed_at: datetime | None = None
    resumed_by: str = ""
    approval: str = ""  # resume: why messages of accounts not rotated were thawed
    changes: dict[str, int] = field(default_factory=dict)  # Citadel: SMTP ports as they were

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def next_step(self) -> str:
        """The command that completes it (cut short while stopping) or undoes it."""
        if self.state == "stopping":
            return f'csm mail stop {self.direction} --reason "{self.reason}" --apply'
        return f"csm mail resume {self.direction} --apply"


@dataclass(frozen=True, slots=True)
class StopMessage:
    msgid: str
    account: str
    source: str  # "queue" (frozen by the stop) or "acl" (arrived, frozen, while it lasted)
    state: str
    at: datetime


def add(conn: sqlite3.Connection, stop: Stop) -> None:
    conn.execute(
        f"INSERT INTO mail_stops ({COLUMNS})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, '', '{}')",
        (
            stop.id,
            stop.direction,
            stop.state,
            stop.reason,
            stop.who,
            ts(stop.started_at),
            json.dumps(list(stop.ports)),
            json.dumps(list(stop.incidents)),
        ),
    )


def set_state(conn: sqlite3.Connection, stop_id: str, state: str) -> None:
    conn.execute("UPDATE mail_stops SET state = ? WHERE id = ?", (state, stop_id))


def set_ports(conn: sqlite3.Connection, stop_id: str, ports: Sequence[int]) -> None:
    conn.execute("UPDATE mail_stops SET ports = ? WHERE id = ?", (json.dumps(list(ports)), stop_id))


def set_changes(conn: sqlite3.Connection, stop_id: str, changes: dict[str, int]) -> None:
    conn.execute("UPDATE mail_stops SET changes = ? WHERE id = ?", (json.dumps(changes), stop_id))


def set_incidents(conn: sqlite3.Connection, stop_id: str, incidents: Sequence[str]) -> None:
    conn.execute(
        "UPDATE mail_stops SET incidents = ? WHERE id = ?", (json.dumps(list(incidents)), stop_id)
    )


def resumed(conn: sqlite3.Connection, stop_id: str, at: datetime, who: str, approval: str) -> None:
    conn.execute(
        "UPDATE mail_stops SET state = 'resumed', resumed_at = ?, resumed_by = ?, approval = ?"
        " WHERE id = ?",
        (ts(at), who, approval, stop_id),
    )


def stops(conn: sqlite3.Connection, direction: str | None = None) -> list[Stop]:
    """Every stop (in ``direction``), newest first."""
    where, args = ("WHERE direction = ?", (direction,)) if direction else ("", ())
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM mail_stops {where} ORDER BY started_at DESC, rowid DESC", args
    )
    return [_stop(row) for row in rows]


def record(
    conn: sqlite3.Connection,
    stop_id: str,
    messages: Iterable[tuple[str, str, str]],
    state: str,
    at: datetime,
) -> None:
    """(msgid, account, source) of ``stop_id`` in ``state``; an id already recorded keeps its
    row (a rerun records nothing twice)."""
    conn.executemany(
        "INSERT OR IGNORE INTO mail_stop_messages (stop, msgid, account, source, state, at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(stop_id, m, a, s, state, ts(at)) for m, a, s in messages],
    )


def set_message_state(
    conn: sqlite3.Connection, stop_id: str, ids: Iterable[str], state: str, at: datetime
) -> None:
    conn.executemany(
        "UPDATE mail_stop_messages SET state = ?, at = ? WHERE stop = ? AND msgid = ?",
        [(state, ts(at), stop_id, i) for i in ids],
    )


def messages(
    conn: sqlite3.Connection, stop_id: str, states: Sequence[str] = ()
) -> list[StopMessage]:
    """The stop's recorded messages (in ``states``), in the order they were recorded."""
    marks = ", ".join("?" * len(states))  # only ? marks are joined
    only = f" AND state IN ({marks})" if states else ""
    rows = conn.execute(
        "SELECT msgid, account, source, state, at FROM mail_stop_messages"
        f" WHERE stop = ?{only} ORDER BY rowid",
        (stop_id, *states),
    )
    return [StopMessage(r[0], r[1], r[2], r[3], parse_ts(r[4])) for r in rows]


def counts(conn: sqlite3.Connection, stop_id: str) -> dict[str, int]:
    """How many of the stop's messages are in each state."""
    rows = conn.execute(
        "SELECT state, count(*) FROM mail_stop_messages WHERE stop = ? GROUP BY state", (stop_id,)
    )
    return {str(r[0]): int(r[1]) for r in rows}


def _stop(row: tuple[object, ...]) -> Stop:
    (id_, direction, state, reason, who, started, ports, incidents) = row[:8]
    resumed_at, resumed_by, approval, changes = row[8:]
    return Stop(
        str(id_),
        str(direction),
        str(state),
        str(reason),
        str(who),
        parse_ts(str(started)),
        tuple(int(p) for p in json.loads(str(ports))),
        tuple(str(i) for i in json.loads(str(incidents))),
        parse_ts(str(resumed_at)) if resumed_at else None,
        str(resumed_by or ""),
        str(approval or ""),
        {str(k): int(v) for k, v in json.loads(str(changes or "{}")).items()},
    )
