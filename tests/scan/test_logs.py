"""``csm check-logs`` on the simulated host's mail day, rotated and compressed sets, --since."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import yaml

from csm.drill.build import DrillHost
from csm.drill.maillog import generate
from csm.logtail import files


def logs(drill: DrillHost) -> list[str]:
    return [str(drill.root / "var/log/exim_mainlog"), str(drill.root / "var/log/maillog")]


def test_the_mail_day_gives_the_runbooks_incidents(cli: Any, drill: DrillHost) -> None:
    day = generate(drill.accounts, drill.seed)
    stolen_account = drill.accounts[0].user
    result = cli("check-logs", *logs(drill), "--store", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["recorded"]["created"] >= 2
    times = [f["time"] for f in report["findings"]]
    assert times == sorted(times)  # mainlog and maillog findings interleaved in time
    incidents = cli("incidents", "list", "--all", "--json").json()["items"]
    from_logs = [i for i in incidents if i["created_at"].startswith("2026-11-20")]
    takeover = [
        i for i in from_logs if i["kind"] == "mailbox_takeover" and i["mailbox"] == day.stolen
    ]
    assert takeover and all(i["account"] == stolen_account for i in takeover)
    php = [i for i in from_logs if i["kind"] == "web_account_compromise"]
    assert [i["account"] for i in php] == [drill.accounts[-1].user]
    rate = next(f for f in report["findings"] if f["check"] == "email_rate_critical")
    assert len(rate["details"]["ips"]) > 10 and len(rate["details"]["sample_messages"]) == 5
    php_findings = [f for f in report["findings"] if f["check"] == "email_php_relay_abuse"]
    assert php_findings and all(f["path"] == day.script_dir for f in php_findings)
    invoicer = day.invoicer
    assert not [f for f in report["findings"] if invoicer in (f["mailbox"], f["message"])]


def test_human_output_counts_files_and_checks(cli: Any, drill: DrillHost) -> None:
    result = cli("check-logs", *logs(drill))
    assert result.code == 0
    assert "exim_mainlog" in result.out and "email_rate_critical: 1" in result.out


def test_since_drops_older_findings(cli: Any, drill: DrillHost) -> None:
    everything = cli("check-logs", *logs(drill), "--json").json()["findings"]
    late = cli("check-logs", *logs(drill), "--since", "2026-11-20T12:00:00Z", "--json").json()[
        "findings"
    ]
    assert late and len(late) < len(everything)
    assert all(f["time"] >= "2026-11-20T12:00:00Z" for f in late)
    assert cli("check-logs", *logs(drill), "--since", "yesterday").code == 2


def test_rotated_and_compressed_sets_are_read_oldest_first(
    tmp_path: Path, drill: DrillHost
) -> None:
    source = drill.root / "var/log/exim_mainlog"
    lines = source.read_bytes().splitlines(keepends=True)
    third = len(lines) // 3
    with gzip.open(tmp_path / "exim_mainlog.2.gz", "wb") as old:
        old.writelines(lines[:third])
    (tmp_path / "exim_mainlog.1").write_bytes(b"".join(lines[third : 2 * third]))
    (tmp_path / "exim_mainlog").write_bytes(b"".join(lines[2 * third :]))
    shuffled = [
        tmp_path / "exim_mainlog",
        tmp_path / "exim_mainlog.2.gz",
        tmp_path / "exim_mainlog.1",
    ]
    ordered = files.ordered(shuffled)
    assert [f.path.name for f in ordered] == ["exim_mainlog.2.gz", "exim_mainlog.1", "exim_mainlog"]
    assert b"".join(line for f in ordered for line in files.lines(f)) == b"".join(lines)


def test_a_truncated_gzip_is_reported_and_the_rest_still_checked(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    source = drill.root / "var/log/exim_mainlog"
    packed = gzip.compress(source.read_bytes())
    (tmp_path / "exim_mainlog.1.gz").write_bytes(packed[: len(packed) // 2])
    shutil.copy(source, tmp_path / "exim_mainlog")
    whole = cli("check-logs", str(source), "--json").json()
    result = cli("check-logs", str(tmp_path / "exim_mainlog.1.gz"), str(tmp_path / "exim_mainlog"),
                 "--json")  # fmt: skip
    assert result.code == 8
    report = result.json()
    damaged, current = report["files"]
    assert "damaged or truncated gzip" in damaged["error"] and damaged["lines"] > 0
    assert current["error"] is None and current["lines"] == whole["files"][0]["lines"]
    human = cli("check-logs", str(tmp_path / "exim_mainlog.1.gz"))
    assert human.code == 8 and "unreadable:" in human.out


def test_a_missing_file_is_a_clear_error(cli: Any, drill: DrillHost) -> None:
    result = cli("check-logs", "/nonexistent/exim_mainlog", "--json")
    assert result.code == 8
    assert result.json()["code"] == "unreadable_input"


def test_the_source_is_detected_from_the_content(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    renamed = tmp_path / "mail.current"
    shutil.copy(drill.root / "var/log/exim_mainlog", renamed)
    report = cli("check-logs", str(renamed), "--json").json()
    assert report["files"][0]["source"] == "exim"


def test_every_failure_shape_is_brute_force_with_a_config_too(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    """The shape samples on a configured host: each block of failures from one address is a
    brute-force finding naming it (the drill's domain map knows none of their mailboxes)."""
    samples = Path(__file__).resolve().parent.parent / "samples" / "mail"
    paths = []
    for name in ("exim_auth_shapes", "dovecot_auth_shapes", "postfix_sasl_shapes"):
        paths.append(tmp_path / f"{name}.log")
        shutil.copy(samples / f"{name}.log", paths[-1])
    result = cli("check-logs", *map(str, paths), "--json")
    assert result.code == 0 and "no config file" not in result.err
    brute = {f["remote_ip"] for f in result.json()["findings"] if f["check"].endswith("bruteforce")}
    expected = set()
    for name in ("exim_auth_shapes", "dovecot_auth_shapes", "postfix_sasl_shapes"):
        wanted = yaml.safe_load((samples / f"{name}.expect.yaml").read_text())["findings"]
        expected |= {f["remote_ip"] for f in wanted if f["check"].endswith("bruteforce")}
    assert brute == expected and len(expected) >= 25
