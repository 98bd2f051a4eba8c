"""The ``csm`` executable: a few read-only commands answered before the command-line and
configuration libraries load (``csm queue count`` is a monitoring probe, run every minute);
everything else, and these whenever the fast answer is not certain, by :mod:`csm.cli.main`."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from csm.config import snapshot
from csm.mailqueue import spoolfiles

FAST = (["queue", "count"], ["queue", "count", "--json"])


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    answered = queue_count(args, os.environ) if args in FAST else None
    if answered is not None:
        sys.exit(answered)
    from csm.cli.main import run  # noqa: PLC0415 - the full command line, loaded only now

    sys.exit(run(args))


def queue_count(args: list[str], env: Mapping[str, str]) -> int | None:
    """``csm queue count [--json]`` from the spool, when the validated configuration's
    snapshot still holds; None when the full command must answer."""
    main_file = snapshot.config_path(None, env)
    saved = snapshot.values(main_file, snapshot.config_dir(None, main_file, env), env)
    if saved is None or "spool_input" not in saved:
        return None
    try:
        total = spoolfiles.count(Path(saved["spool_input"]))
    except OSError:
        return None  # the full command falls back to `exim -bpc`
    print(f'{{\n  "count": {total}\n}}' if "--json" in args else total)  # as emit_json writes it
    return 0
