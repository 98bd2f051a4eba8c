"""No new password is ever set that the operator cannot read back: ``--secrets-out`` is a new
file created before anything changes, each secret is synced there before its credential
changes, and a command that would neither show nor store the secrets changes nothing."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from csm import passwords
from csm.drill.build import DrillHost
from tests.conftest import dropin
from tests.credentials.test_rotate import STANDINS, secrets_of, shadow_hash

REPO = Path(__file__).resolve().parents[2]


def plain(drill: DrillHost) -> None:
    dropin(drill, "50-plain.yaml", "hosting:\n  panel: plain\n")


def mailbox_items(drill: DrillHost) -> tuple[str, list[str]]:
    account = drill.accounts[0]
    return account.user, [f"mailbox:{b.address}" for b in account.mailboxes]


def hashes(drill: DrillHost) -> dict[str, str]:
    account = drill.accounts[0]
    return {b.address: shadow_hash(drill, account, b.address) for b in account.mailboxes}


def rotations(cli: Any, user: str) -> set[str]:
    plan = cli("creds", "plan", user, "--json").json()
    return {i["id"] for i in plan["items"] if i["state"] == "rotated"}


def refused_unchanged(cli: Any, drill: DrillHost, *extra: str) -> Any:
    user, items = mailbox_items(drill)
    before = hashes(drill)
    result = cli("creds", "rotate", user, *items, *extra)
    assert result.code != 0, result.out + result.err
    assert "nothing was changed" in result.err + result.out
    assert hashes(drill) == before
    assert not rotations(cli, user)
    return result


@pytest.mark.parametrize("kind", ["file", "symlink", "dangling", "missing-dir", "in-home"])
def test_an_unusable_secrets_file_changes_nothing(
    cli: Any, drill: DrillHost, tmp_path: Path, kind: str
) -> None:
    plain(drill)
    target = tmp_path / "new.tsv"
    if kind == "file":
        target.write_text("the operator's notes\n")
    elif kind == "symlink":
        (tmp_path / "elsewhere").write_text("keep me\n")
        target.symlink_to(tmp_path / "elsewhere")
    elif kind == "dangling":
        target.symlink_to(tmp_path / "not-yet")
    elif kind == "missing-dir":
        target = tmp_path / "no-such-dir" / "new.tsv"
    else:
        target = drill.root / f"home/{drill.accounts[0].user}/new.tsv"
    before = target.read_bytes() if target.is_file() else None
    refused_unchanged(cli, drill, "--secrets-out", str(target))
    assert (target.read_bytes() if target.is_file() else None) == before
    assert not (tmp_path / "not-yet").exists()


def test_json_without_a_place_for_the_secrets_is_refused(cli: Any, drill: DrillHost) -> None:
    plain(drill)
    result = refused_unchanged(cli, drill, "--json")
    assert result.code == 2
    assert json.loads(result.out)["ok"] is False


def test_each_secret_is_in_the_file_and_a_failure_is_marked(
    cli: Any, drill: DrillHost, tmp_path: Path
) -> None:
    plain(drill)
    user, items = mailbox_items(drill)
    account = drill.accounts[0]
    broken = account.mailboxes[-1]
    shadow = drill.root / f"home/{user}/etc/{broken.domain}/shadow"
    lines = [
        line for line in shadow.read_text().splitlines() if not line.startswith(f"{broken.local}:")
    ]
    shadow.write_text("".join(f"{line}\n" for line in lines))  # its line is gone: it fails
    out = tmp_path / "secrets.tsv"
    result = cli("creds", "rotate", user, *items, "--secrets-out", str(out), "--json")
    assert result.code == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    kept = secrets_of(out)
    assert f"# not set, the old password stands: mailbox:{broken.address}" in out.read_text()
    for box in account.mailboxes:
        if box is not broken:
            hashed = shadow_hash(drill, account, box.address)
            assert passwords.sha512_check(kept[f"mailbox:{box.address}"], hashed)


def test_the_terminal_shows_each_password_before_the_table(cli: Any, drill: DrillHost) -> None:
    plain(drill)
    user, items = mailbox_items(drill)
    result = cli("creds", "rotate", user, items[0])
    assert result.code == 0, result.err
    head, _, rest = result.out.partition(items[0])
    assert "New passwords" in head
    password = rest.split()[0]
    address = items[0].removeprefix("mailbox:")
    assert passwords.sha512_check(password, shadow_hash(drill, drill.accounts[0], address))


KILLER = """#!{python}
import os, signal, subprocess, sys
done = subprocess.run([{standin!r}, *sys.argv[1:]])
if "passwd_pop" in sys.argv:
    count = os.path.join({state!r}, "calls")
    calls = int(open(count).read()) + 1 if os.path.exists(count) else 1
    open(count, "w").write(str(calls))
    if calls == 2:
        os.kill(os.getppid(), signal.SIGKILL)
sys.exit(done.returncode)
"""


def test_kill_9_mid_rotation_leaves_every_changed_password_in_the_file(
    drill: DrillHost, tmp_path: Path
) -> None:
    """A uapi that kills CSM right after the second mailbox changed: the file has both."""
    uapi = tmp_path / "uapi"
    uapi.write_text(KILLER.format(python=sys.executable, standin=str(STANDINS / "uapi"),
                                  state=str(tmp_path)))  # fmt: skip
    uapi.chmod(0o755)
    bins = f"  uapi_bin: {uapi}\n  whmapi1_bin: {STANDINS / 'whmapi1'}\n"
    dropin(drill, "50-standins.yaml", f"cpanel:\n{bins}")
    user, items = mailbox_items(drill)
    assert len(items) >= 3
    out = tmp_path / "secrets.tsv"
    env = {**os.environ, "CSM_STANDIN_ROOT": str(drill.root), "CSM_CONFIG": str(drill.config_path)}
    argv = [str(REPO / ".venv/bin/csm"), "creds", "rotate", user, *items, "--secrets-out", str(out)]
    done = subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    kept = secrets_of(out)
    changed = {
        b.address: h for b in drill.accounts[0].mailboxes
        if (h := shadow_hash(drill, drill.accounts[0], b.address)) != b.hash
    }  # fmt: skip
    assert len(changed) == 2
    for address, hashed in changed.items():
        assert passwords.sha512_check(kept[f"mailbox:{address}"], hashed)
