"""``files/recent-mtimes.tsv``: every regular file under the home modified in the window, as
``<host path><TAB><RFC 3339 UTC mtime>``, in walk order (directories in name order).

The walk is the one every check uses (:class:`csm.accounts.home.Walk`): private top-level
paths and top-level dotfiles skipped, symlinks never followed.  Paths are bytes; they are
written escaped (:mod:`csm.forensic.tsv`), so a name with a tab, a newline or bytes that are
not UTF-8 stays one field of one line and can be turned back into the exact name.  A file
modified after the snapshot time (a future mtime) is listed too: it is as suspicious as a
recent one.  Directories the walk could not read, and running out of time, are errors: what
was listed is kept, and the errors are reported beside it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import BinaryIO

from csm.accounts.home import Walk
from csm.clock import isoformat
from csm.forensic import tsv
from csm.forensic.model import Listing

TIMEOUT = 90.0
MAX_DEPTH = 256  # directories below the home the walk descends (Walk's default is 64)


def recent(
    home: bytes,
    shown: bytes,
    since: datetime,
    out: BinaryIO,
    *,
    timeout: float = TIMEOUT,
    monotonic: Callable[[], float] = time.monotonic,
) -> Listing:
    """Write the files under ``home`` (its real path) modified at or after ``since``; paths
    shown under ``shown`` (the home's host path)."""
    listing, walk = Listing(), Walk(max_depth=MAX_DEPTH)
    cutoff, deadline = since.timestamp(), monotonic() + timeout
    for path in walk.files(home):
        if monotonic() > deadline:
            listing.errors.append(f"the walk did not finish within {timeout:g}s")
            break
        line = _line(path, home, shown, cutoff, listing)
        if line:
            out.write(line)
    listing.errors += walk.errors
    return listing


def _line(path: bytes, home: bytes, shown: bytes, cutoff: float, listing: Listing) -> bytes:
    try:
        mtime = os.lstat(path).st_mtime
    except FileNotFoundError:
        return b""  # removed while the walk ran
    except OSError as exc:
        listing.errors.append(f"{os.fsdecode(path)}: {exc.strerror}")
        return b""
    if mtime < cutoff:
        return b""
    listing.count += 1
    when = isoformat(datetime.fromtimestamp(mtime, UTC))
    return tsv.record([shown + path[len(home) :], when]).encode()
