"""``csm check-logs`` and ``csm mail timeline`` on a machine without a config file: built-in
defaults, said on stderr; a config file named explicitly must still exist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from csm.config import snapshot

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "mail"


@pytest.fixture
def laptop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No config file where CSM looks by default, none named: a log copied to a laptop."""
    for name in [n for n in os.environ if n.startswith("CSM_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(snapshot, "DEFAULT_CONFIG", tmp_path / "etc/csm/csm.yaml")
    shutil.copy(SAMPLES / "exim_auth_shapes.log", tmp_path / "mainlog")
    shutil.copy(SAMPLES / "dovecot_auth_shapes.log", tmp_path / "maillog")
    return tmp_path


def test_check_logs_runs_on_the_built_in_defaults(cli: Any, laptop: Path) -> None:
    result = cli("check-logs", str(laptop / "mainlog"), str(laptop / "maillog"), "--json")
    assert result.code == 0, result.err
    notes = [line for line in result.err.splitlines() if "no config file" in line]
    assert len(notes) == 1 and "built-in defaults apply" in notes[0]
    report = result.json()
    ips = {f["remote_ip"] for f in report["findings"] if f["check"].endswith("_bruteforce")}
    assert {"192.0.2.7", "2001:db8::7", "198.51.100.1", "198.51.100.11"} <= ips
    assert not [f for f in report["findings"] if f["account"]]  # no domain map: no accounts
    assert not (laptop / "etc").exists()  # nothing written where the config would be


def test_userdomains_names_the_accounts(cli: Any, laptop: Path) -> None:
    (laptop / "userdomains").write_text("shop.example: shopuser\n*: nobody\n")
    log = laptop / "spray.log"
    shutil.copy(SAMPLES / "slow_spray.log", log)
    result = cli("check-logs", str(log), "--userdomains", str(laptop / "userdomains"), "--json")
    assert result.code == 0, result.err
    [spray] = result.json()["findings"]
    assert (spray["check"], spray["account"], spray["mailbox"]) == (
        "smtp_slow_spray",
        "shopuser",
        "info@shop.example",
    )


def test_an_unreadable_userdomains_file_is_a_clear_error(cli: Any, laptop: Path) -> None:
    result = cli("check-logs", str(laptop / "mainlog"), "--userdomains", str(laptop / "nope"))
    assert result.code == 8 and "cannot read" in result.err


@pytest.mark.parametrize("how", ["--config", "CSM_CONFIG"])
def test_a_named_config_file_must_exist(
    cli: Any, laptop: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    missing = str(laptop / "elsewhere.yaml")
    if how == "CSM_CONFIG":
        monkeypatch.setenv("CSM_CONFIG", missing)
        result = cli("check-logs", str(laptop / "mainlog"))
    else:
        result = cli("--config", missing, "check-logs", str(laptop / "mainlog"))
    assert result.code != 0
    assert f"config file not found: {missing}" in result.err


def test_mail_timeline_runs_on_the_built_in_defaults(cli: Any, laptop: Path) -> None:
    args = ("mail", "timeline", "info@shop.example", "--log", str(laptop / "maillog"), "--json")
    result = cli(*args)
    assert result.code == 0, result.err
    assert "built-in defaults apply" in result.err
    failed = sum(hour["failed_logins"] for hour in result.json()["hours"])
    # 6 blocks of 5 naming the mailbox, 5 in one connection, 3 logged twice (counted once)
    assert failed == 5 * 6 + 5 + 3


def test_in_a_clean_environment(tmp_path: Path) -> None:
    """The installed command, with no CSM variable and the real default location: the
    built-in defaults when nothing is there (a laptop, a host before install), else the file."""
    shutil.copy(SAMPLES / "postfix_sasl_shapes.log", tmp_path / "mail.log")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("csm")), "check-logs", "mail.log"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    said = "built-in defaults apply" in done.stderr
    assert said is not snapshot.DEFAULT_CONFIG.exists()
    assert "mail_bruteforce" in done.stdout and "203.0.113.1" in done.stdout
