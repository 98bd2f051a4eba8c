"""``csm daemon`` as a real process: lines appended to the logs become incidents, a restart
(after SIGTERM or SIGKILL) loses and doubles nothing, SIGHUP with a broken config keeps the
old one, and the control socket answers only root and the daemon's own uid."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from csm.drill.build import DrillHost
from tests.daemon.conftest import Daemon, finding_ids, store, wait_until

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's (python3-venv, which make test installs)


def day_lines(tmp_path: Path, name: str = "mainlog.day") -> list[bytes]:
    return (tmp_path / name).read_bytes().splitlines(keepends=True)


def append(host: DrillHost, lines: list[bytes], name: str = "exim_mainlog") -> None:
    with (host.root / "var/log" / name).open("ab") as log:
        log.write(b"".join(lines))


def check_logs_origins(cli: Any, host: DrillHost) -> set[str]:
    """What ``csm check-logs`` finds over the whole mainlog: its findings' ids."""
    done = cli("check-logs", str(host.root / "var/log/exim_mainlog"), "--json")
    assert done.code == 0, done.err
    return {f["origin"] for f in done.json()["findings"]}


def test_appended_lines_become_incidents(
    cli: Any, host: DrillHost, daemon: Daemon, tmp_path: Path
) -> None:
    before = finding_ids(host)
    daemon.start()
    lines = day_lines(tmp_path)
    for start in range(0, len(lines), 1000):
        append(host, lines[start : start + 1000])
    wait_until(lambda: daemon.caught_up("mainlog", len(lines)), what="the mainlog read")
    status = daemon.status()
    assert status["watchers"]["mainlog"]["attached"] and status["schedules"]
    assert daemon.stop() == 0
    expected = check_logs_origins(cli, host)
    assert expected and finding_ids(host) - before == expected
    with store(host) as conn:
        (row,) = conn.execute("SELECT read_offset FROM log_positions WHERE name = 'mainlog'")
    assert row[0] == (host.root / "var/log/exim_mainlog").stat().st_size
    assert not daemon.socket.exists()  # removed on the way out
    log = [json.loads(line) for line in daemon.log.read_text().splitlines()]
    assert {"daemon.started", "incidents.recorded", "daemon.stopped"} <= {e["msgid"] for e in log}


def test_killed_and_restarted_it_loses_and_doubles_nothing(
    cli: Any, host: DrillHost, daemon: Daemon, tmp_path: Path
) -> None:
    """SIGKILL at random points while the log grows, 20 times; then the findings recorded
    are exactly those ``check-logs`` finds over the whole file, each once."""
    before = finding_ids(host)
    with store(host) as conn:
        counted = conn.execute("SELECT coalesce(sum(finding_count), 0) FROM incidents")
        findings_before = counted.fetchone()[0]
    lines, chance = day_lines(tmp_path), random.Random(18)
    pieces = [lines[i : i + 170] for i in range(0, len(lines), 170)]
    for round_ in range(20):
        daemon.start()
        for piece in pieces[round_ * 2 : round_ * 2 + 2]:
            append(host, piece)
        when = chance.choice(("at once", "reading", "read"))
        if when == "reading":  # killed once it has begun on the new lines
            wait_until(lambda: daemon.status()["watchers"]["mainlog"]["lines"] > 0)
        elif when == "read":
            wait_until(lambda: daemon.status()["watchers"]["mainlog"]["lag_bytes"] == 0)
        daemon.kill()
    for piece in pieces[40:]:
        append(host, piece)
    daemon.start()
    size = (host.root / "var/log/exim_mainlog").stat().st_size
    wait_until(lambda: _read_to(host, size), what="the whole mainlog recorded")
    assert daemon.stop() == 0
    recorded = finding_ids(host) - before
    assert recorded == check_logs_origins(cli, host)
    with store(host) as conn:
        counted = conn.execute("SELECT coalesce(sum(finding_count), 0) FROM incidents")
        findings_after = counted.fetchone()[0]
    assert findings_after - findings_before <= len(recorded)  # none counted twice


def _read_to(host: DrillHost, size: int) -> bool:
    with store(host) as conn:
        row = conn.execute("SELECT read_offset FROM log_positions WHERE name = 'mainlog'")
        found = row.fetchone()
    return bool(found and found[0] >= size)


def test_rotation_while_writing_loses_no_line(host: DrillHost, daemon: Daemon) -> None:
    """50 rotations while lines are written: 25 renamed (``x.1`` … shifted, as logrotate
    does), then 25 copied and truncated (dated copies, ``x-YYYYMMDD``)."""
    daemon.start()
    log = host.root / "var/log/exim_mainlog"
    written = 0
    for rotation in range(50):
        with log.open("ab") as out:
            for _ in range(40):
                written += 1
                out.write(f"2026-12-03 03:00:00 line {written} of the rotation test\n".encode())
        if rotation < 25:
            _shift(log)
            os.rename(log, log.with_name("exim_mainlog.1"))
            log.write_bytes(b"")
        else:  # copytruncate, the writer paused (what logrotate cannot ensure)
            wait_until(partial(daemon.caught_up, "mainlog", written), what="the lines read")
            log.with_name(f"exim_mainlog-{20261100 + rotation}").write_bytes(log.read_bytes())
            os.truncate(log, 0)
    watchers = daemon.status
    wait_until(lambda: watchers()["watchers"]["mainlog"]["truncations"] == 25, what="the last")
    wait_until(lambda: daemon.caught_up("mainlog", written), what="every line read")
    watcher = daemon.status()["watchers"]["mainlog"]
    assert watcher["lines"] == written  # none read twice either
    assert watcher["rotations"] == 25, watcher
    assert daemon.stop() == 0


def _shift(log: Path) -> None:
    """``x.N`` to ``x.N+1``, oldest first."""
    numbered = sorted(log.parent.glob(log.name + ".*"), key=lambda p: -int(p.suffix[1:]))
    for path in numbered:
        os.rename(path, log.with_name(f"{log.name}.{int(path.suffix[1:]) + 1}"))


def test_sighup_with_a_broken_config_keeps_the_old_one(host: DrillHost, daemon: Daemon) -> None:
    daemon.start()
    before = daemon.status()["config_hash"]
    config = host.config_path.read_text()
    host.config_path.write_text(config + "\nnot_a_setting: 1\n")
    assert daemon.process is not None
    daemon.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "config.refused" in daemon.log.read_text(), what="the refusal logged")
    assert daemon.status()["config_hash"] == before  # still running, on the old config
    host.config_path.write_text(config + "\ndaemon:\n  poll_interval: 0.1\n")
    daemon.process.send_signal(signal.SIGHUP)
    wait_until(lambda: daemon.status()["config_hash"] != before, what="the reload")
    assert daemon.stop() == 0
    with store(host) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_second_daemon_is_refused(host: DrillHost, daemon: Daemon, tmp_path: Path) -> None:
    daemon.start()
    second = Daemon(host, tmp_path / "second.log").start(ready=False)
    assert second.process is not None
    assert second.process.wait(timeout=60) == 5  # locked
    assert daemon.answers()


def test_the_control_socket_refuses_other_users(host: DrillHost, daemon: Daemon) -> None:
    daemon.start()
    os.chmod(daemon.socket, 0o666)  # past the file's mode: the peer check still refuses
    for parent in daemon.socket.parents:  # (the test's own directories, made reachable)
        if parent == Path(tempfile.gettempdir()):
            break
        os.chmod(parent, parent.stat().st_mode | 0o011)
    code = (
        "import json, socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]);"
        ' s.sendall(b\'{"cmd": "status"}\\n\'); print(s.makefile().readline())'
    )
    done = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-c",
            code,
            str(daemon.socket),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip(), done.stderr
    reply = json.loads(done.stdout)
    assert reply["ok"] is False and reply["code"] == "refused", done.stderr
    assert daemon.answers()


def test_a_malformed_request_gets_an_error_and_the_daemon_goes_on(daemon: Daemon) -> None:
    daemon.start()
    for garbage in (
        b"not json\n",
        b"[1, 2]\n",
        b'{"cmd": "nope"}\n',
        b'{"cmd": 1}\n',
        b"\xff\xfe\n",
    ):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(daemon.socket))
            sock.sendall(garbage)
            reply = json.loads(sock.makefile("rb").readline())
        assert reply["ok"] is False and reply["error"]
    assert daemon.answers()


def test_doctor_and_status_show_each_watcher_and_schedule(cli: Any, daemon: Daemon) -> None:
    """A missing log is reported (degraded, a failed doctor row with a fix) and retried."""
    maillog = daemon.host.root / "var/log/maillog"
    maillog.unlink()
    daemon.start()
    status = cli("status", "--json").json()
    assert status["status"] == "degraded" and not status["watchers"]["maillog"]["attached"]
    assert status["watchers"]["mainlog"]["attached"]
    assert status["binary_hash"] and "follow" in status["capabilities"]
    checks = {c["name"]: c for c in cli("doctor", "--json").json()["checks"]}
    assert checks["watch mainlog"]["status"] == "ok"
    assert checks["watch maillog"]["status"] == "fail" and checks["watch maillog"]["fix"]
    assert {"schedule scan_critical", "schedule sweep"} <= checks.keys()
    maillog.write_bytes(b"")
    wait_until(lambda: cli("status", "--json").json()["status"] == "ok", what="re-attached")


def test_the_queue_index_follows_the_spool(host: DrillHost, daemon: Daemon) -> None:
    """Exim queues mail while the daemon runs: the spool index is refreshed without any
    command asking, so `csm queue summary` stays on its fast path."""
    from csm.drill.mailqueue import build_queue

    first = build_queue(host, 1)
    daemon.start()
    wait_until(lambda: daemon.status()["spool"]["messages"] == first.total, what="the queue")
    assert daemon.status()["spool"]["mode"] == "inotify"
    index = host.root / "var/lib/csm/state/queue-index"
    assert index.is_file()
    refreshes = daemon.status()["spool"]["refreshes"]
    more = build_queue(host, 2)
    total = first.total + more.total
    wait_until(lambda: daemon.status()["spool"]["messages"] == total, what="the new messages")
    assert daemon.status()["spool"]["refreshes"] > refreshes


def test_replay_from_reads_what_was_written_before(
    cli: Any, host: DrillHost, daemon: Daemon, tmp_path: Path
) -> None:
    """A first start begins at the end of the logs; --replay-from reads them from the start,
    recording findings from that time on."""
    before = finding_ids(host)
    append(host, day_lines(tmp_path))
    daemon.start()
    wait_until(lambda: daemon.status()["watchers"]["mainlog"]["lag_bytes"] == 0)
    assert daemon.status()["watchers"]["mainlog"]["lines"] == 0  # began at the end
    assert daemon.stop() == 0
    daemon.start("--replay-from", "2026-11-20T14:00:00Z")  # the stolen mailbox's afternoon
    size = (host.root / "var/log/exim_mainlog").stat().st_size
    wait_until(lambda: _read_to(host, size), what="the replay")
    assert daemon.stop() == 0
    recorded = finding_ids(host) - before
    done = cli("check-logs", str(host.root / "var/log/exim_mainlog"), "--json")
    afternoon = {f["origin"] for f in done.json()["findings"] if f["time"] >= "2026-11-20T14:00:00"}
    assert afternoon and recorded == afternoon


def test_a_rotation_while_stopped_loses_nothing(host: DrillHost, daemon: Daemon) -> None:
    """Stopped, the log is rotated twice (the older copy compressed) and written to: the
    restarted daemon reads the rest of the file it knew, the file after it, then the new one."""
    log = host.root / "var/log/exim_mainlog"
    daemon.start()
    lines = [f"2026-12-03 03:00:00 line {n} while stopped\n".encode() for n in range(300)]
    append(host, lines[:100])
    wait_until(partial(daemon.caught_up, "mainlog", 100), what="the first lines")
    assert daemon.stop() == 0
    append(host, lines[100:150])
    os.rename(log, log.with_name("exim_mainlog.1"))
    append(host, lines[150:200])
    _shift(log)
    os.rename(log, log.with_name("exim_mainlog.1"))
    first = log.with_name("exim_mainlog.2")
    subprocess.run(["gzip", str(first)], check=True)
    append(host, lines[200:])
    daemon.start()
    wait_until(partial(daemon.caught_up, "mainlog", 200), what="the rest")
    assert daemon.status()["watchers"]["mainlog"]["lines"] == 200  # 100 before, none twice


def test_incident_changes_go_through_the_running_daemon(cli: Any, daemon: Daemon) -> None:
    """With the daemon running the store has one writer: `incidents review` and `status`
    are its commands, and its refusals come back as the same errors (exit code, fix)."""
    daemon.start()
    listed = cli("incidents", "list", "--status", "open", "--json").json()["items"]
    incident = next(i for i in listed if i["kind"] == "mailbox_takeover")
    reviewed = cli("incidents", "review", incident["id"], "--note", "looked at the logs", "--json")
    assert reviewed.code == 0, reviewed.err
    assert reviewed.json()["incident_id"] == incident["id"]
    refused = cli("incidents", "status", incident["id"], "resolved", "--json")
    local = refused.json()
    assert refused.code != 0 and local["ok"] is False and local["fix"]
    log = daemon.log.read_text()
    assert '"msgid": "operation.incidents.review", "msg": "incidents.review done"' in log
    assert '"msgid": "operation.incidents.set_status", "msg": "take a' in log  # refused, logged
    assert daemon.stop() == 0
    again = cli("incidents", "status", incident["id"], "resolved", "--json")  # alone now
    assert again.code == refused.code and again.json()["code"] == local["code"]
