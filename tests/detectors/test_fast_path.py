"""The mainlog fast path (offset dispatch, lines decoded only when read) finds exactly what the
general parser finds, line for line, on the samples, a simulated mail day, and mutated lines
in every shape Exim writes."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from csm.accounts.domains import DomainMap
from csm.config.mailrules import MailRules, default_rules
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.pipeline import MailDetectors, wanted
from csm.drill.build import DrillHost
from csm.drill.maillog import generate
from csm.incidents.model import Finding

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "mail"
EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "40"))
DOMAINS = DomainMap({"shop.example": "shopuser", "junipr.test": "junipr"})


def both(lines: list[bytes], rules: MailRules | None = None) -> tuple[list[str], list[str]]:
    """Findings of the fast and the general path, each as comparable text, line by line; and
    the fast path's findings and counts are those of the same lines sifted by ``wanted`` (as
    the helper process of big logs does), in batches."""
    found: list[list[str]] = []
    for fast in (True, False):
        context = MailContext.build(rules or default_rules(), DOMAINS, [], [])
        detectors = MailDetectors(context, fast=fast)
        found.append([_text(f) for line in lines for f in detectors.exim_line(line, 2026)])
        if fast:
            assert sifted(lines, rules) == (found[0], detectors.lines, detectors.read)
    return found[0], found[1]


def sifted(lines: list[bytes], rules: MailRules | None) -> tuple[list[str], object, int]:
    context = MailContext.build(rules or default_rules(), DOMAINS, [], [])
    detectors, found = MailDetectors(context), []
    for start in range(0, len(lines), 7):
        batch = lines[start : start + 7]
        found += detectors.exim_lines(wanted(batch), 2026, read=len(batch))
    return [_text(f) for f in found], detectors.lines, detectors.read


def _text(finding: Finding) -> str:
    return " | ".join(
        str(v) for v in (finding.check, finding.severity, finding.time, finding.account,
                         finding.mailbox, finding.domain, finding.remote_ip, finding.path,
                         finding.message)
    )  # fmt: skip


def exim_samples() -> list[bytes]:
    lines: list[bytes] = []
    for log in sorted(SAMPLES.glob("*.log")):
        if b"dovecot[" not in log.read_bytes()[:2000]:
            lines += log.read_bytes().splitlines(keepends=True)
    return lines


def test_the_samples_give_the_same_findings_both_ways() -> None:
    fast, general = both(exim_samples())
    assert fast, "the samples hold findings"
    assert fast == general


def test_a_mail_day_gives_the_same_findings_both_ways(drill: DrillHost) -> None:
    day = generate(drill.accounts, 7)
    fast, general = both([f"{line}\n".encode() for line in day.mainlog])
    assert len(fast) >= 3
    assert fast == general
    assert both([line.encode() for line in day.mainlog]) == (fast, general)  # no line ends


def test_wanted_leaves_out_what_no_detector_reads(drill: DrillHost) -> None:
    lines = [line.encode() for line in generate(drill.accounts, 7).mainlog]
    kept = wanted(lines)
    assert [line for line in lines if b" Completed" in line]
    assert not [line for line in kept if b" Completed" in line]
    assert [line for line in lines if b" <= " in line and b" A=" not in line]  # from outside
    assert not [line for line in kept if b" <= " in line and b" A=" not in line
                and b" U=" not in line and b"<= <>" not in line]  # fmt: skip


SHAPES = (
    lambda line: line,
    lambda line: line[:20] + b"[4242] " + line[20:],  # log_selector +pid
    lambda line: line[:20] + b"[7] " + line[20:],
    lambda line: line[:19] + b".123456" + line[19:],  # +subsecond_timestamp
    lambda line: line[:20] + b"+0300 " + line[20:],  # a zone
    lambda line: b"Nov 20 09:00:01 server1 exim[77]: " + line[20:],  # syslog-wrapped
)
MUTATIONS = st.sampled_from(
    [b" ", b" <= ", b" => ", b" A=x:y", b" U=root", b"<>", b"Frozen", b"cwd=", b"\xff", b"["]
)


@st.composite
def mutated_lines(draw: st.DrawFn) -> list[bytes]:
    pool = exim_samples()
    lines = []
    for _ in range(draw(st.integers(1, 30))):
        line = bytearray(draw(st.sampled_from(SHAPES))(draw(st.sampled_from(pool))))
        if draw(st.booleans()):
            at = draw(st.integers(0, len(line)))
            line[at:at] = draw(MUTATIONS)
        lines.append(bytes(line))
    return lines


@settings(max_examples=EXAMPLES, deadline=None)
@given(mutated_lines())
def test_mutated_lines_in_every_shape_give_the_same_findings(lines: list[bytes]) -> None:
    """Low thresholds, so that a few lines can cross them."""
    rules = default_rules().model_copy(
        update={"rate_warn": 2, "rate_critical": 3, "fanout_warn": 2, "local_warn": 2,
                "local_critical": 3, "brute_per_ip": 2, "bounce_storm": 2, "spread_networks": 2}
    )  # fmt: skip
    fast, general = both(lines, rules)
    assert fast == general
