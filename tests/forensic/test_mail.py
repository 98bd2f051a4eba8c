"""``--with-mail``: the account's mainlog lines of the window and the headers (never the
bodies) of its queued messages, from a queue the real Exim built (the drill's test config)."""

from __future__ import annotations

import re
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csm import mysql
from csm.clock import FixedClock, SystemClock
from csm.config.loader import load
from csm.drill.build import EXIM_SPOOL, DrillHost, build
from csm.drill.mailqueue import QueuePlan, build_queue
from csm.forensic.mail import MailSources
from csm.forensic.model import SnapshotResult
from csm.forensic.snapshot import Forensics
from csm.host import Host
from tests.forensic.conftest import SEED

pytestmark = pytest.mark.exim
DAY_AFTER = datetime(2026, 11, 21, tzinfo=UTC)  # the drill's mail day is 2026-11-20


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory) -> tuple[DrillHost, QueuePlan]:
    host = build(tmp_path_factory.mktemp("mail") / "host", SEED, SystemClock())
    return host, build_queue(host, SEED)


def service(host: DrillHost, free_port: int, at: datetime = DAY_AFTER) -> Forensics:
    config = load(host.config_path, host.config_path.parent / "conf.d", {}).config
    sim = Host(host.root)
    mail = MailSources.from_config(config.mail, sim, [a.user for a in host.accounts])
    down = mysql.Credentials("127.0.0.1", free_port, "root", "", None)  # no databases here
    return Forensics(sim, lambda: down, FixedClock(at), mail)


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def value(manifest: bytes, key: str) -> str:
    found = re.search(rb"^" + key.encode() + rb"=(.*)$", manifest, re.M)
    assert found, key
    return found.group(1).decode()


def test_the_php_spammer_s_queue_headers_without_bodies(
    queued: tuple[DrillHost, QueuePlan], tmp_path: Path, free_port: int
) -> None:
    host, plan = queued
    out = tmp_path / "mail.tar.gz"
    service(host, free_port).snapshot(plan.php_account, out, with_mail=True)
    found = members(out)
    headers = found["mail/queue-headers.txt"]
    listed = re.findall(rb"^==> ([A-Za-z0-9-]+)-H <==$", headers, re.M)
    assert set(plan.ids["php_spam"]) <= {i.decode() for i in listed}
    assert not set(plan.ids["stolen_spam"]) & {i.decode() for i in listed}  # another account's
    assert value(found["manifest.txt"], "queued_messages") == str(len(listed))
    assert value(found["manifest.txt"], "mail_queue_status") == "ok"
    spool = host.root / EXIM_SPOOL.lstrip("/") / "input"
    sample = plan.ids["php_spam"][0]
    body_file = next(spool.rglob(f"{sample}-D"))
    body = body_file.read_bytes().partition(b"\n")[2].strip().splitlines()[0]
    assert body and body not in headers
    assert next(spool.rglob(f"{sample}-H")).read_bytes().rstrip(b"\n") in headers
    assert "mail/queue-headers.txt.err" not in found


def test_the_mainlog_lines_that_mention_the_account(
    queued: tuple[DrillHost, QueuePlan], tmp_path: Path, free_port: int
) -> None:
    host, plan = queued
    account = next(a for a in host.accounts if a.user == plan.php_account)
    other = next(a for a in host.accounts if a.user != plan.php_account)
    out = tmp_path / "mail.tar.gz"
    service(host, free_port).snapshot(account.user, out, with_mail=True)
    found = members(out)
    lines = found["logs/exim_mainlog.txt"].splitlines()
    mainlog = [  # the drill's day; the queue's own lines (dated now) are after the snapshot
        line
        for line in (host.root / "var/log/exim_mainlog").read_bytes().splitlines()
        if line.startswith(b"2026-11-20 ")
    ]
    own = [line for line in mainlog if f"U={account.user} ".encode() in line]
    assert own and all(line in lines for line in own)
    others = [line for line in mainlog if f"<= {other.mailboxes[0].address} ".encode() in line]
    assert others and not any(line in lines for line in others)
    ids = {line.split()[2] for line in lines if b" <= " in line}
    delivered = [line for line in mainlog if line.split()[2:3] and line.split()[2] in ids]
    assert all(line in lines for line in delivered)  # each message followed to its end
    assert value(found["manifest.txt"], "mail_log_lines") == str(len(lines))
    assert value(found["manifest.txt"], "mail_log_status") == "ok"


def test_the_window_bounds_the_mainlog_and_without_mail_nothing_is_read(
    queued: tuple[DrillHost, QueuePlan], tmp_path: Path, free_port: int
) -> None:
    host, plan = queued
    at = datetime(2026, 11, 25, tzinfo=UTC)  # after the drill's day, before the queue was built
    narrow, wide = tmp_path / "narrow.tar.gz", tmp_path / "wide.tar.gz"
    service(host, free_port, at).snapshot(plan.php_account, narrow, with_mail=True,
                                          since=timedelta(days=1))  # fmt: skip
    assert members(narrow)["logs/exim_mainlog.txt"] == b""
    assert value(members(narrow)["manifest.txt"], "mail_log_lines") == "0"
    service(host, free_port, at).snapshot(plan.php_account, wide, with_mail=True,
                                          since=timedelta(days=6))  # fmt: skip
    lines = members(wide)["logs/exim_mainlog.txt"].splitlines()
    assert lines and all(line.startswith(b"2026-11-20 ") for line in lines)
    assert value(members(wide)["manifest.txt"], "window_start") == "2026-11-19T00:00:00Z"
    service(host, free_port).snapshot(plan.php_account, tmp_path / "plain.tar.gz")
    plain = members(tmp_path / "plain.tar.gz")
    assert not any(name.startswith(("logs/", "mail/")) for name in plain)
    assert value(plain["manifest.txt"], "mail_log_status") == "disabled"
    assert value(plain["manifest.txt"], "mail_queue_status") == "disabled"


def test_by_default_the_window_reaches_back_to_the_oldest_open_incident(
    queued: tuple[DrillHost, QueuePlan], tmp_path: Path, free_port: int
) -> None:
    """Twelve days after the attack, a snapshot without --since still holds its mail lines:
    the window reaches a day before the account's oldest open incident (a week at least)."""
    host, plan = queued
    later = datetime(2026, 12, 2, tzinfo=UTC)  # the drill's mail day was 12 days earlier
    snap = service(host, free_port, later)
    out = tmp_path / "old.tar.gz"
    snap.snapshot(plan.php_account, out, with_mail=True)
    assert members(out)["logs/exim_mainlog.txt"] == b""  # a week back: the attack is missed
    opened = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    snap.evidence = OpenSince(plan.php_account, opened)
    out = tmp_path / "reaching.tar.gz"
    snap.snapshot(plan.php_account, out, with_mail=True)
    lines = members(out)["logs/exim_mainlog.txt"].splitlines()
    assert lines and all(line.startswith(b"2026-11-20 ") for line in lines)
    assert value(members(out)["manifest.txt"], "window_start") == "2026-11-19T03:00:00Z"


class OpenSince:
    """One account with an incident open since ``opened``; snapshots recorded in a list."""

    def __init__(self, account: str, opened: datetime) -> None:
        self.account, self.opened = account, opened
        self.snapshots: list[SnapshotResult] = []

    def recorded(self, result: SnapshotResult, who: str) -> None:
        self.snapshots.append(result)

    def oldest_active(self, account: str) -> datetime | None:
        return self.opened if account == self.account else None
