"""Human rendering of the queue summary: plain columns in the manner of ``exiqsumm`` (count,
volume, oldest and newest, then the key), with the accounts and a few subjects.  No rich: the
summary's quick path (``csm.cli.entry``) prints it too, and both must print the same."""

from __future__ import annotations

from collections.abc import Iterable

from csm.cli.terminal import printable
from csm.mailqueue import views
from csm.mailqueue.model import SpoolProblem

SUBJECTS_SHOWN = 80


def summary_lines(result: views.Summary, now: int) -> list[str]:
    """The table, a line per row then the total; a note when the spool was not readable."""
    title = "DOMAIN" if result.by == "domain" else result.by.upper()
    cells: list[tuple[str, ...]] = [
        ("COUNT", "VOLUME", "OLDEST", "NEWEST", title, "ACCOUNTS", "SUBJECTS")
    ]
    cells += [_cells(row, now) for row in [*result.rows, result.total]]
    widths = [max(len(line[at]) for line in cells) for at in range(6)]
    lines = []
    for line in cells:
        numbers = "  ".join(c.rjust(w) for c, w in zip(line[:4], widths[:4], strict=True))
        names = "  ".join(c.ljust(w) for c, w in zip(line[4:6], widths[4:], strict=True))
        lines.append(f"{numbers}  {names}  {line[6]}".rstrip())
    if result.source == "citadel":
        lines.append("(read from Citadel's queue room: no SMTP logins recorded there)")
    elif result.source != "spool":
        lines.append(f"(read from `{result.source}`: no headers or logins)")
    return lines


def problem_lines(problems: Iterable[SpoolProblem]) -> list[str]:
    """For stderr: the spool files that could not be read."""
    return [
        f"unreadable spool file {printable(p.path)}: {printable(p.error)} (skipped)"
        for p in problems
    ]


def _cells(row: views.Row, now: int) -> tuple[str, ...]:
    ages = (views.age(now - row.oldest), views.age(now - row.newest)) if row.messages else ("", "")
    subjects = printable(" | ".join(row.subjects))[:SUBJECTS_SHOWN]
    return (
        str(row.messages),
        views.size(row.volume),
        *ages,
        printable(row.key),
        printable(", ".join(row.accounts)),
        subjects,
    )
