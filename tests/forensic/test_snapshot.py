"""``csm forensic-snapshot`` on the simulated host with its real MariaDB databases: the archive
passes the operator's tools (runbook step 3), holds the malicious trigger and the rogue
administrator, is the same bytes for the same inputs, and survives capture errors."""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csm.clock import FixedClock
from csm.forensic.quoting import go_unquote
from csm.forensic.tsv import unescape
from tests.forensic.conftest import AT, ROGUE, Drilled, wordpress

pytestmark = pytest.mark.mariadb

# §3.6, in its order: each key once, except the repeated ones (their runs collapse to one).
GO_ORDER = [
    "account", "timestamp", "schema_count", "discovery_root", "private_paths_excluded",
    "private_top_excluded", "skipped_path", "schema", "invalid_target", "valid_target_count",
    "invalid_target_count", "dump_success_count", "dump_error_count", "admins_success_count",
    "admins_error_count", "sessions_success_count", "sessions_error_count",
    "recent_mtimes_status",
]  # fmt: skip
PRIVATE_NAMES = {"access-logs", "etc", "homedir", "logs", "lscache", "mail", "ssl", "tmp"}
PRIVATE_TOP = (
    '".cagefs,.cpanel,.spamassassin,.trash,access-logs,etc,homedir,logs,lscache,mail,ssl,tmp,'
    'top-level dotfiles"'
)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def tool(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def fields(manifest: str) -> dict[str, str]:
    """The manifest's single-valued keys (the last line of a repeated key wins)."""
    return dict(line.split("=", 1) for line in manifest.splitlines())


def collapsed(keys: list[str]) -> list[str]:
    return [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]


def test_the_compromised_account_s_snapshot_passes_the_runbook_s_checks(
    drilled: Drilled, tmp_path: Path
) -> None:
    out = tmp_path / "csm-forensics" / f"{drilled.victim.user}-20261121120000.tar.gz"
    out.parent.mkdir()
    result = drilled.forensics().snapshot(drilled.victim.user, out)

    assert tool("gzip", "-t", str(out)).returncode == 0
    listed = tool("tar", "-tzf", str(out)).stdout.splitlines()
    assert listed[-1] == "manifest.txt" and listed[:-1] == sorted(listed[:-1])
    # the runbook's step 3 as written, from wherever the operator stands
    forensics = out.parent
    check = f"sha256sum -c {forensics}/{drilled.victim.user}-*.sha256"
    checked = subprocess.run(["bash", "-c", check], cwd="/", capture_output=True, text=True,
                             check=False)  # fmt: skip
    assert checked.returncode == 0 and checked.stdout == f"{out}: OK\n"
    manifest = tool("bash", "-c", f"tar -xOzf {forensics}/{drilled.victim.user}-*.tar.gz"
                    " manifest.txt").stdout  # fmt: skip

    values = fields(manifest)
    sites = wordpress(drilled.victim)
    assert values["account"] == drilled.victim.user
    assert values["timestamp"] == "2026-11-21T12:00:00Z"
    assert values["schema_count"] == str(len(sites)) == values["valid_target_count"]
    assert values["discovery_root"] == f'"/home/{drilled.victim.user}"'
    assert values["private_paths_excluded"] == "true"
    assert values["private_top_excluded"] == PRIVATE_TOP
    assert values["recent_mtimes_status"] == "ok"
    assert values["dump_error_count"] == values["admins_error_count"] == "0"
    assert values["dump_success_count"] == str(len(sites))
    keys = [line.partition("=")[0] for line in manifest.splitlines()]
    assert collapsed(keys)[: len(GO_ORDER) - 1] == [k for k in GO_ORDER if k != "invalid_target"]
    assert result.complete and result.sha256 == checked_sha(out)
    assert result.size == out.stat().st_size


def checked_sha(out: Path) -> str:
    return tool("sha256sum", str(out)).stdout.split()[0]


def test_the_malicious_trigger_the_rogue_admin_and_the_sessions_are_kept(
    drilled: Drilled, tmp_path: Path
) -> None:
    out = tmp_path / "victim.tar.gz"
    drilled.forensics().snapshot(drilled.victim.user, out)
    schema = wordpress(drilled.victim)[0].db_name
    found = members(out)
    routines = found[f"schema/{schema}-routines.sql"].decode()
    assert re.search(r"CREATE\*/.*?\bTRIGGER\s+`?wp_user_sync`?\s+AFTER INSERT", routines, re.S)
    assert "display_name LIKE '%Xk9mQ2vB7pLz%'" in routines
    admins = [
        line.split("\t") for line in found[f"schema/{schema}-admins.tsv"].decode().splitlines()
    ]
    assert ["99", ROGUE[0], ROGUE[1], "2026-11-20 03:04:05", ROGUE[2]] in admins
    assert all(len(row) == 5 for row in admins)
    assert "writer" not in {row[1] for row in admins}  # an author, not an administrator
    assert [row[1] for row in admins][-1] == ROGUE[0]  # by registration: the newest last
    sessions = found[f"schema/{schema}-sessions.tsv"].decode().splitlines()
    assert [line.split("\t")[0] for line in sessions] == ["1", "2", "3"]
    assert all(line.split("\t")[1].startswith("a:1:{s:64:") for line in sessions)


def test_recent_mtimes_list_the_home_s_files_outside_private_paths(
    drilled: Drilled, tmp_path: Path
) -> None:
    home = drilled.home(drilled.victim)
    expected = set()
    for directory, _dirs, names in os.walk(home):
        top = Path(directory).relative_to(home).parts[:1]
        if top and (top[0].startswith(".") or top[0] in PRIVATE_NAMES):
            continue
        for name in names:
            path = Path(directory, name)
            if not path.is_symlink() and not (not top and name.startswith(".")):
                expected.add(f"/home/{drilled.victim.user}/{path.relative_to(home)}")
    out = tmp_path / "files.tar.gz"
    drilled.forensics(FixedClock(now())).snapshot(drilled.victim.user, out)
    listing = members(out)["files/recent-mtimes.tsv"].decode().splitlines()
    assert {line.split("\t")[0] for line in listing} == expected and expected
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", line.split("\t")[1])
               for line in listing)  # fmt: skip
    # the drill's files were written now: a snapshot dated ten days on lists none of them
    later = tmp_path / "later.tar.gz"
    drilled.forensics(FixedClock(now() + timedelta(days=10))).snapshot(drilled.victim.user, later)
    assert members(later)["files/recent-mtimes.tsv"] == b""
    assert "recent_mtimes_count=0\n" in members(later)["manifest.txt"].decode()


def test_the_same_inputs_give_the_same_bytes(drilled: Drilled, tmp_path: Path) -> None:
    first, second, other = (tmp_path / d / "snap.tar.gz" for d in ("a", "b", "c"))
    for out in (first, second, other):
        out.parent.mkdir()
    service = drilled.forensics()
    one = service.snapshot(drilled.victim.user, first)
    two = service.snapshot(drilled.victim.user, second)
    assert first.read_bytes() == second.read_bytes()
    for out in (first, second):  # the sidecar names the archive as --out did
        assert (out.parent / "snap.tar.gz.sha256").read_text() == f"{one.sha256}  {out}\n"
    assert one.sha256 == two.sha256
    drilled.forensics(FixedClock(AT.replace(second=1))).snapshot(drilled.victim.user, other)
    assert other.read_bytes() != first.read_bytes()  # the time is in the archive


def test_members_are_0600_root_owned_and_dated_at_the_snapshot(
    drilled: Drilled, tmp_path: Path
) -> None:
    out = tmp_path / "snap.tar.gz"
    drilled.forensics().snapshot(drilled.victim.user, out)
    stamp = int(AT.timestamp())
    assert int.from_bytes(out.read_bytes()[4:8], "little") == stamp  # the gzip header's MTIME
    with tarfile.open(out, "r:gz") as tar:
        for member in tar.getmembers():
            assert member.isreg() and member.mode == 0o600 and member.mtime == stamp
            assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
            assert not member.name.startswith("/") and ".." not in member.name.split("/")
    assert out.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap.tar.gz", "snap.tar.gz.sha256"]


def test_an_other_account_s_sites_are_all_targets(drilled: Drilled, tmp_path: Path) -> None:
    account = max(drilled.drill.accounts, key=lambda a: len(wordpress(a)))
    out = tmp_path / "many.tar.gz"
    result = drilled.forensics().snapshot(account.user, out)
    schemas = sorted(s.db_name for s in wordpress(account))
    manifest = members(out)["manifest.txt"].decode()
    listed = re.findall(r"^schema=(\S+) table_prefix=wp_ config_path=(\".*\")$", manifest, re.M)
    assert [s for s, _ in listed] == schemas and len(schemas) > 1
    assert all(go_unquote(p).decode().endswith("/wp-config.php") for _, p in listed)
    assert result.manifest.schema_count == len(schemas)


def test_a_listed_path_unescapes_to_the_file_s_name(drilled: Drilled, tmp_path: Path) -> None:
    directory = drilled.home(drilled.victim) / "public_html" / "wp-content"
    name = b"shell\t\n\xff\\x41.php"
    path = directory / os.fsdecode(name)
    path.write_text("x")
    try:
        out = tmp_path / "odd.tar.gz"
        drilled.forensics(FixedClock(now())).snapshot(drilled.victim.user, out)
        listing = members(out)["files/recent-mtimes.tsv"].decode().splitlines()
        assert all(len(line.split("\t")) == 2 for line in listing)
        wanted = f"/home/{drilled.victim.user}/public_html/wp-content/".encode() + name
        assert wanted in [unescape(line.split("\t")[0]) for line in listing]
    finally:
        path.unlink()
