"""The queue summary: every message's brief read through the spool index (only the files that
changed are parsed), its account resolved, and counted by the chosen key.  The one flow behind
``csm queue summary``, whether the full command or its quick path (``csm.cli.entry``) runs it."""

from __future__ import annotations

from csm.mailqueue import views
from csm.mailqueue.index import OwnersKept, SpoolIndex
from csm.mailqueue.owner import Owners


def summarise(
    index: SpoolIndex, input_dir: str, owners: Owners, by: views.By, keep: OwnersKept | None
) -> views.Summary:
    """The summary of the spool in ``input_dir``; the index is brought up to date and saved
    (best effort), with ``keep`` (the owners as just read) when given.  OSError when the spool
    cannot be read."""
    read = index.refresh(input_dir)
    if keep is not None:
        index.keep_owners(keep)
    index.save()
    accounts = owners.accounts(read.briefs)
    return views.summary(read.briefs, accounts, by, "spool", tuple(read.problems))
