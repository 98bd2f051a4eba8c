"""The runbook's steps 2-8, as written, on a freshly built drill host: nothing in the environment
but ``CSM_CONFIG`` (and ``PATH``); credentials rotate and mail is held and released through the
drill's own cPanel commands; the standard tools verify what CSM wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from csm.clock import SystemClock
from csm.drill.build import DrillHost, build
from csm.drill.mailqueue import QueuePlan, build_queue
from tests.daemon.conftest import Daemon

pytestmark = pytest.mark.exim
CSM = str(Path(sys.executable).with_name("csm"))
DAEMON_RAN = (
    "backup.create",
    "forensic.snapshot",
    "mail.hold",
    "creds.rotate",
    "queue.review",
    "queue.accept",
    "queue.act",
    "mail.release",
    "incidents.bulk_status",
)


class Operator:
    """Runs commands as the runbook writes them, in a clean environment."""

    def __init__(self, host: DrillHost) -> None:
        self.host = host
        self.env = {"PATH": os.environ["PATH"], "CSM_CONFIG": str(host.config_path)}

    def run(self, *argv: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            list(argv), env=self.env, capture_output=True, text=True, check=False, timeout=600
        )
        if ok:
            assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
        return done

    def csm(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(CSM, *args, ok=ok)

    def json(self, *args: str) -> Any:
        return json.loads(self.csm(*args).stdout)

    def cpanel(self, tool: str, *args: str) -> Any:
        done = self.run(str(self.host.root / "usr/local/cpanel/bin" / tool), *args)
        return json.loads(done.stdout)


@pytest.fixture
def host(tmp_path: Path) -> tuple[DrillHost, QueuePlan]:
    drill = build(tmp_path / "host", 4, SystemClock(), with_databases=True)
    return drill, build_queue(drill, 4)


@pytest.mark.parametrize("with_daemon", [False, True], ids=["alone", "daemon"])
def test_the_runbook_steps_2_to_8_on_a_fresh_drill_host(  # noqa: PLR0915 - the runbook, in order
    host: tuple[DrillHost, QueuePlan],
    tmp_path: Path,
    with_daemon: bool,
    request: pytest.FixtureRequest,
) -> None:
    """Alone, and with `csm daemon` running: then every change is the daemon's to make."""
    drill, plan = host
    op = Operator(drill)
    if with_daemon:
        daemon = Daemon(drill, tmp_path / "daemon.log").start()
        request.addfinalizer(lambda: daemon.process and daemon.kill())
    account = plan.php_account
    stamp = "20261203061500"

    # 2. Take a backup, and check it with the standard tools.
    backups = tmp_path / "csm-backups"
    backups.mkdir()
    archive = backups / f"csm-pre-response-{stamp}.tar.gz"
    op.csm("backup", str(archive))
    op.run("sha256sum", str(archive))
    op.run("gzip", "-t", str(archive))
    assert op.run("tar", "-tzf", str(archive)).stdout.strip()

    # 3. Preserve evidence; the sidecar verifies from its own directory.
    forensics = tmp_path / "csm-forensics"
    forensics.mkdir()
    evidence = forensics / f"{account}-{stamp}.tar.gz"
    op.csm("forensic-snapshot", account, "--out", str(evidence))
    checked = subprocess.run(["sha256sum", "-c", evidence.name + ".sha256"], cwd=forensics,
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    manifest = op.run("tar", "-xOzf", str(evidence), "manifest.txt").stdout
    assert "recent_mtimes_status=ok" in manifest and "schema_count=" in manifest

    # 4. Map affected accounts, with the native cPanel APIs for inventory.
    listed = op.json("incidents", "list", "--status", "open", "--all", "--json")
    assert listed["items"]
    assert op.json("queue", "count", "--json")["count"] == plan.total
    accounts = op.cpanel("whmapi1", "listaccts", "searchtype=user", f"search={account}",
                         "--output=json")  # fmt: skip
    assert [a["user"] for a in accounts["data"]["acct"]] == [account]
    for module, function in (("Email", "list_pops"), ("Ftp", "list_ftp"), ("Mysql", "list_users")):
        reply = op.cpanel("uapi", f"--user={account}", module, function, "--output=json")
        assert reply["result"]["status"] == 1, (module, reply)

    # Containment: hold the account's outgoing mail.
    held = op.json("mail", "hold", account, "--reason", "PHP mailer spamming", "--json")
    assert held["method"] == "cpanel"

    # 5. Rotate credentials; every new password is kept first.
    secrets = tmp_path / "secrets.txt"
    rotated = op.csm("creds", "rotate", account, "--all", "--secrets-out", str(secrets), ok=False)
    assert rotated.returncode in (0, 1), rotated.stderr  # 1: a manual item stays for the operator
    status = op.json("creds", "status", account, "--json")
    assert status and secrets.stat().st_mode & 0o777 == 0o600

    # 6. Review queued mail; act only on reviewed ids; the release follows the rotation.
    assert op.json("queue", "summary", "--json")["rows"]
    review = op.json("queue", "review", "--json")
    safe = [v["id"] for v in review["verdicts"] if v["group"] == "safe_to_remove"]
    assert safe
    op.csm("queue", "decide", "--accept-review", review["id"], "--group", "safe_to_remove",
           "--note", "frozen bounces, reviewed")  # fmt: skip
    removed = op.json("queue", "remove", *safe, "--json")
    assert sorted(removed["done"]) == sorted(safe)
    op.csm("mail", "release", account)

    # 7. Review stale incidents: preview, then apply in a bounded batch.
    preview = op.csm("incidents", "bulk-status", "--older-than", "72h", "--status", "active",
                     "--kind", "web_account_compromise", "--limit", "20")  # fmt: skip
    assert preview.stdout
    op.csm("incidents", "bulk-status", "--older-than", "24h", "--status", "active",
           "--kind", "mailbox_takeover", "--limit", "20")  # fmt: skip
    applied = op.csm("incidents", "bulk-status", "--older-than", "72h", "--status", "active",
                     "--kind", "web_account_compromise", "--limit", "100", "--apply", "--confirm",
                     "--details", "operator cleanup after review", ok=False)  # fmt: skip
    assert applied.returncode in (0, 3), applied.stderr  # 3: the close guard held some back

    # 8. Confirm recovery.
    assert op.json("status", "--json")["store_healthy"] is True
    doctor = op.csm("doctor", "--json", ok=False)
    assert json.loads(doctor.stdout)["overall_status"] in ("ok", "warn"), doctor.stdout
    assert op.json("queue", "count", "--json")["count"] == plan.total - len(safe)
    if with_daemon:
        log = daemon.log.read_text()
        for name in DAEMON_RAN:
            assert f'"msgid": "operation.{name}"' in log, name
        assert daemon.stop() == 0
