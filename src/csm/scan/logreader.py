"""Mainlog batches for the detectors, read in a helper process when the file is big.

The helper reads (and decompresses) the file and sifts each batch with
:func:`csm.detectors.mail.pipeline.wanted`, while this process runs the detectors on what is
left: two cores at work, as ``zcat exim_mainlog.1.gz | grep`` would use.  What the helper
leaves out is what the detectors pass over on sight, so the findings are the same either way
(``tests/detectors/test_fast_path.py`` holds the two to it).  Small files are read here.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Final

from csm.detectors.mail.pipeline import wanted
from csm.errors import CsmError, UnreadableInputError
from csm.logtail import files

HELPER_FROM: Final = 8 << 20  # bytes on disk: below this, a second process is not worth it
Batch = tuple[list[bytes], int]  # the lines to read, and how many lines of the file they stand for


def batches(log: files.LogFile, size: int, helper_from: int = HELPER_FROM) -> Iterator[Batch]:
    """The file's lines in batches of about ``size`` bytes; from a helper process (sifted)
    when the file holds at least ``helper_from`` bytes."""
    if log.size < helper_from:
        yield from ((batch, len(batch)) for batch in files.batches(log, size))
        return
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    helper = context.Process(target=_sift, args=(log, size, sending), daemon=True)
    helper.start()
    sending.close()
    try:
        yield from _received(receiving, log)
    finally:  # done, failed, or the reader stopped early: the helper goes too
        receiving.close()
        if helper.is_alive():
            helper.terminate()
        helper.join()


def _received(receiving: Connection, log: files.LogFile) -> Iterator[Batch]:
    while True:
        try:
            message = receiving.recv()
        except EOFError:
            raise CsmError(f"{log.path}: the log reader process stopped unexpectedly") from None
        if message is None:
            return
        if isinstance(message, str):
            raise UnreadableInputError(message)
        yield message


def _sift(log: files.LogFile, size: int, sending: Connection) -> None:
    """The helper: each batch sifted and sent; then None, or the read error's message."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    try:
        for batch in files.batches(log, size):
            sending.send((wanted(batch), len(batch)))
        sending.send(None)
    except UnreadableInputError as exc:
        sending.send(exc.message)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the main process stopped reading
    finally:
        sending.close()
