"""Properties: severity never falls; one batch or one at a time (or with restarts) gives the
same incidents; attacker-controlled text never breaks recording."""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm.incidents import repo
from csm.incidents.correlator import incident_id
from csm.incidents.model import Finding, Severity
from tests.incidents.conftest import T0, Harness
from tests.incidents.conftest import settings as incident_settings

CHECKS = [
    "htaccess_injection", "email_rate_warning", "smtp_bruteforce", "webshell", "c2_connection",
    "suid_binary", "uid0_account", "wp_login_bruteforce", "ip_reputation", "auto_block",
]  # fmt: skip

findings = st.builds(
    Finding,
    check=st.sampled_from(CHECKS),
    severity=st.sampled_from(list(Severity)),
    message=st.sampled_from(["a", "b"]),
    time=st.integers(0, 180).map(lambda m: T0 + timedelta(minutes=m)),
    account=st.sampled_from(["", "acme", "shop"]),
    mailbox=st.sampled_from(["", "info@acme.test", "Info"]),
    domain=st.sampled_from(["", "acme.test"]),
    remote_ip=st.sampled_from(["", "192.0.2.1", "192.0.2.2"]),
    pid=st.sampled_from([0, 42]),
)
SLOW = settings(
    max_examples=int(os.environ.get("CSM_TEST_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def snapshot(h: Harness) -> list[Any]:
    """Every incident with what it holds; its id as its creation number (each store shifts its
    ids by its own salt)."""
    out = []
    for incident in h.incidents():
        detail = h.service.show(incident.id)
        number = _number(h, incident.id)
        out.append(
            (
                replace(incident, id=f"#{number}"),
                detail.findings,
                detail.timeline,
                [(a.time, a.action, a.details) for a in detail.actions],
            )
        )
    return sorted(out, key=lambda item: item[0].id)


def _number(h: Harness, wanted: str) -> int:
    salt = repo.load_salt(h.store)
    return next(n for n in range(1, 10_000) if incident_id(n, salt) == wanted)


def harness(**overrides: Any) -> Harness:
    return Harness(Path(tempfile.mkdtemp()), incident_settings(**overrides))


@SLOW
@given(st.lists(findings, max_size=40))
def test_severity_is_the_maximum_seen_and_never_falls(found: list[Finding]) -> None:
    h = harness()
    seen: dict[str, Severity] = {}
    for one in found:
        h.record(one)
        for incident in h.incidents():
            before = seen.get(incident.id)
            assert before is None or incident.severity.rank >= before.rank
            seen[incident.id] = incident.severity
    for incident in h.incidents():
        ranks = [e.severity.rank for e in h.service.show(incident.id).timeline if e.severity]
        assert incident.severity.rank >= max(ranks)
    h.store.close()


@SLOW
@given(st.lists(findings, max_size=40), st.integers(1, 7))
def test_one_batch_one_by_one_or_with_restarts_gives_the_same_incidents(
    found: list[Finding], every: int
) -> None:
    caps = {"timeline_cap": 10, "fingerprint_cap": 12}
    batch, single, restarted = harness(**caps), harness(**caps), harness(**caps)
    batch.record(*found)
    for i, one in enumerate(found):
        single.record(one)
        restarted.record(one)
        if i % every == 0:
            restarted.reopen()
    assert snapshot(batch) == snapshot(single) == snapshot(restarted)
    for h in (batch, single, restarted):
        h.store.close()


text = st.text(max_size=60)  # any code point, lone surrogates (undecodable bytes) included


@SLOW
@given(st.lists(st.builds(
    Finding, check=st.sampled_from(CHECKS), severity=st.sampled_from(list(Severity)),
    message=text, time=st.just(T0), account=text, mailbox=text, domain=text, remote_ip=text,
    path=text, process=text,
), max_size=10))  # fmt: skip
def test_attacker_controlled_text_is_recorded_and_read_back_intact(found: list[Finding]) -> None:
    h = harness(open_threshold=1)
    h.record(*found)
    messages = {e.message for i in h.incidents() for e in h.service.show(i.id).timeline}
    assert messages <= {f.message for f in found}  # findings are stored exactly as built
    for finding in found:
        finding.message.encode("utf-8")  # built findings are always storable text
    h.store.close()
