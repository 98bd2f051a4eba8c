"""The ``log_positions`` table: how far the daemon read each followed log, and where a
restart reads from.  Written in the transaction that records the lines' findings."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from csm.store.times import parse_ts, ts


@dataclass(frozen=True, slots=True)
class Position:
    """Where a followed log was read to: the file (device, inode, head: the hash of its first
    line, "" while it holds no complete line) and the offset (the end of a complete line)."""

    device: int
    inode: int
    head: str
    offset: int


@dataclass(frozen=True, slots=True)
class LogPosition:
    name: str  # the followed log ("mainlog", "maillog")
    path: str
    read: Position  # the end of the last complete line read
    resume: Position  # where a restart reads from
    updated_at: datetime


def load(conn: sqlite3.Connection) -> dict[str, LogPosition]:
    rows = conn.execute(
        "SELECT name, path, read_device, read_inode, read_head, read_offset, resume_device,"
        " resume_inode, resume_head, resume_offset, updated_at FROM log_positions"
    )
    return {
        row[0]: LogPosition(
            row[0], row[1], Position(*row[2:6]), Position(*row[6:10]), parse_ts(row[10])
        )
        for row in rows
    }


def save(conn: sqlite3.Connection, position: LogPosition) -> None:
    read, resume = position.read, position.resume
    conn.execute(
        "INSERT OR REPLACE INTO log_positions (name, path, read_device, read_inode, read_head,"
        " read_offset, resume_device, resume_inode, resume_head, resume_offset, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            position.name,
            position.path,
            read.device,
            read.inode,
            read.head,
            read.offset,
            resume.device,
            resume.inode,
            resume.head,
            resume.offset,
            ts(position.updated_at),
        ),
    )
