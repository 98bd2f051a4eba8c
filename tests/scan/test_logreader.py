"""Big mainlogs read and sifted in a helper process give what reading them here gives."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from csm.accounts.domains import DomainMap
from csm.config.mailrules import default_rules
from csm.detectors.mail.context import MailContext
from csm.drill.build import DrillHost
from csm.errors import UnreadableInputError
from csm.logtail import files
from csm.scan import logreader
from csm.scan.logs import LogCheck


def check(paths: list[Path], helper_from: int) -> tuple[list[object], list[object]]:
    context = MailContext.build(default_rules(), DomainMap({}), [], [])
    report = LogCheck(context, year=2026, helper_from=helper_from).run(paths, "exim")
    return report.files, [(f.check, f.time, f.mailbox, f.message) for f in report.findings]


def test_the_helper_finds_what_this_process_finds(drill: DrillHost, tmp_path: Path) -> None:
    mainlog = drill.root / "var/log/exim_mainlog"
    packed = tmp_path / "exim_mainlog.1.gz"
    packed.write_bytes(gzip.compress(mainlog.read_bytes()))
    here = check([packed, mainlog], helper_from=1 << 40)
    helped = check([packed, mainlog], helper_from=0)
    assert helped == here
    assert len(here[1]) >= 3 and here[0][0].lines > 1000  # type: ignore[attr-defined]


def test_a_damaged_file_read_by_the_helper_is_reported(drill: DrillHost, tmp_path: Path) -> None:
    packed = gzip.compress((drill.root / "var/log/exim_mainlog").read_bytes())
    damaged = tmp_path / "exim_mainlog.1.gz"
    damaged.write_bytes(packed[: len(packed) // 2])
    (report,) = check([damaged], helper_from=0)[0]
    assert "damaged or truncated gzip" in report.error  # type: ignore[attr-defined]
    assert report.lines > 0  # type: ignore[attr-defined]
    (log,) = files.ordered([damaged])
    with pytest.raises(UnreadableInputError):
        list(logreader.batches(log, 1 << 16, helper_from=0))


def test_the_helper_goes_when_reading_stops_early(drill: DrillHost) -> None:
    (log,) = files.ordered([drill.root / "var/log/exim_mainlog"])
    reading = logreader.batches(log, 4096, helper_from=0)
    lines, read = next(reading)
    assert read >= len(lines)
    children = _children()
    assert children, "the helper runs"
    reading.close()  # the consumer stops: the helper is ended, not left behind
    assert not (_children() & children)


def _children() -> set[int]:
    me = os.getpid()
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(me) and "Z" not in fields.get("State", ""):
            found.add(int(status.parent.name))
    return found
