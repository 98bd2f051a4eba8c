"""The ``csm`` executable: a few read-only commands answered before the command-line and
configuration libraries load (``csm queue count`` is a monitoring probe, run every minute;
``csm queue summary`` is what an operator runs again and again during a spam run); everything
else, and these whenever the quick answer is not certain, by :mod:`csm.cli.main`."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from csm.config import snapshot
from csm.mailqueue import spoolfiles

if TYPE_CHECKING:
    from csm.mailqueue.views import By, Summary

FAST = (["queue", "count"], ["queue", "count", "--json"])


BROKEN_PIPE = 141  # 128 + SIGPIPE: what a program the reader left behind reports


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _answer(args)
        sys.stdout.flush()
    except BrokenPipeError:  # `csm queue count | true`: the reader is gone, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        code = BROKEN_PIPE
    sys.exit(code)


def _answer(args: list[str]) -> int:
    answered = queue_count(args, os.environ) if args in FAST else None
    if answered is None and args[:2] == ["queue", "summary"]:
        answered = queue_summary(args, os.environ)
    if answered is not None:
        return answered
    from csm.cli.main import run  # noqa: PLC0415 - the full command line, loaded only now

    return run(args)


def _saved(env: Mapping[str, str]) -> dict[str, str] | None:
    """The validated configuration's quick values, while every input is the one validated."""
    main_file = snapshot.config_path(None, env)
    return snapshot.values(main_file, snapshot.config_dir(None, main_file, env), env)


def queue_count(args: list[str], env: Mapping[str, str]) -> int | None:
    """``csm queue count [--json]`` from the spool, when the validated configuration's
    snapshot still holds; None when the full command must answer."""
    saved = _saved(env)
    if saved is None or "spool_input" not in saved:
        return None
    try:
        total = spoolfiles.count(Path(saved["spool_input"]))
    except OSError:
        return None  # the full command falls back to `exim -bpc`
    print(f'{{\n  "count": {total}\n}}' if "--json" in args else total)  # as emit_json writes it
    return 0


def summary_args(args: list[str]) -> tuple[By, bool] | None:
    """(by, as JSON) of ``queue summary [--by B] [--json]``; None for anything else (the full
    command parses it, and explains a mistake)."""
    from csm.mailqueue.views import BYS  # noqa: PLC0415 - only for this command

    rest, by, as_json = args[2:], "domain", False
    while rest:
        if rest[0] == "--json":
            as_json, rest = True, rest[1:]
        elif rest[0] == "--by" and len(rest) > 1 and rest[1] in BYS:
            by, rest = rest[1], rest[2:]
        elif rest[0].startswith("--by=") and rest[0][5:] in BYS:
            by, rest = rest[0][5:], rest[1:]
        else:
            return None
    return cast("By", by), as_json


def queue_summary(args: list[str], env: Mapping[str, str]) -> int | None:
    """``csm queue summary [--by B] [--json]`` through the spool index, when the snapshot
    holds and the index's accounts were read under this configuration from files unchanged
    since; None when the full command must answer."""
    wanted, saved = summary_args(args), _saved(env)
    if wanted is None or saved is None or "spool_input" not in saved:
        return None
    from csm.accounts.domains import DomainMap  # noqa: PLC0415 - only for this command
    from csm.mailqueue import index, owner, summary  # noqa: PLC0415

    spool_index = index.SpoolIndex.load(saved["queue_index"])
    kept = spool_index.owners
    if kept is None or not index.owners_hold(kept, saved["config"]):
        return None
    owners = owner.Owners(DomainMap(kept.domains), kept.users)
    try:
        result = summary.summarise(spool_index, saved["spool_input"], owners, wanted[0], None)
    except OSError:
        return None  # the full command falls back to `exim -bp`
    _print_summary(result, as_json=wanted[1])
    return 0


def _print_summary(result: Summary, *, as_json: bool) -> None:
    from csm.cli import queue_view  # noqa: PLC0415
    from csm.jsonio import dumps  # noqa: PLC0415

    if as_json:
        print(dumps(result))
        return
    for line in queue_view.problem_lines(result.problems):
        print(line, file=sys.stderr)
    print("\n".join(queue_view.summary_lines(result, int(time.time()))))
