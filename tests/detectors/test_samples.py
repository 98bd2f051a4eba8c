"""Every annotated sample in tests/samples/mail gives exactly the findings written beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from csm.accounts.domains import DomainMap
from csm.config.mailrules import default_rules
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.pipeline import MailDetectors

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "mail"
FIELDS = ("check", "severity", "account", "mailbox", "domain", "remote_ip", "path")


def run(log: Path, expect: dict[str, Any]) -> tuple[MailDetectors, list[dict[str, str]]]:
    context = MailContext.build(default_rules(), DomainMap(expect.get("domains") or {}), [], [])
    detectors = MailDetectors(context)
    feed = detectors.exim_line if expect["source"] == "exim" else detectors.maillog_line
    found = [f for line in log.read_bytes().splitlines(keepends=True) for f in feed(line, 2026)]
    return detectors, [{k: str(getattr(f, k)) for k in FIELDS} for f in found]


@pytest.mark.parametrize("log", sorted(SAMPLES.glob("*.log")), ids=lambda p: p.stem)
def test_sample(log: Path) -> None:
    expect = yaml.safe_load(log.with_suffix(".expect.yaml").read_text())
    _, found = run(log, expect)
    wanted = [{k: str(v) for k, v in item.items()} for item in expect["findings"]]
    picked = [{k: f[k] for k in item} for f, item in zip(found, wanted, strict=False)]
    assert len(found) == len(wanted), found
    assert picked == wanted


def test_every_sample_has_its_expectations() -> None:
    logs = sorted(SAMPLES.glob("*.log"))
    assert len(logs) >= 7
    assert all(log.with_suffix(".expect.yaml").is_file() for log in logs)


def test_junk_lines_are_counted_and_skipped() -> None:
    log = SAMPLES / "delivery_trouble.log"
    detectors, _ = run(log, yaml.safe_load(log.with_suffix(".expect.yaml").read_text()))
    assert detectors.lines["skipped"] == 3
    assert detectors.read == 9


@pytest.mark.parametrize("log", sorted(SAMPLES.glob("*_shapes.log")), ids=lambda p: p.stem)
def test_every_authentication_line_is_parsed_or_counted_as_skipped(log: Path) -> None:
    """No line of the shape samples is dropped unseen: each is parsed or counted skipped."""
    detectors, _ = run(log, yaml.safe_load(log.with_suffix(".expect.yaml").read_text()))
    lines = detectors.lines
    assert lines["parsed"] + lines["skipped"] == detectors.read
    assert lines["skipped"] <= 1  # Postfix's Cyrus line names no address
