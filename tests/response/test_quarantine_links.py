"""Quarantine and restore never act through a link: over random trees with links to outside
and to inside, ``..`` and ``.`` components, ``/homeX``-style prefixes and names that are not
UTF-8, a put moves exactly the file the path names through real directories in an account's
home or a temporary directory, or refuses and changes nothing; a restore after the path's
directories were swapped for links or removed writes the file back only through real
directories, or refuses and keeps the copy.  No file outside is ever touched, none is lost."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from csm.audit import AuditLog
from csm.clock import SystemClock
from csm.drill.build import DrillHost
from csm.drill.incidents import WEBSHELL
from csm.errors import CsmError
from csm.host import Host
from csm.response.quarantine import Quarantine
from csm.store.db import Store

EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "40")) * 5
QUARANTINE = "/opt/csm/quarantine"
FILES = {
    b"home/u1/public_html/a.php": b"a",
    b"home/u1/public_html/sub/b.php": b"b",
    b"home/u1/public_html/\xff.php": b"odd",
    b"home/u2/c.php": b"c",
    b"homeX/u1/d.php": b"d",
    b"home/virtfs/u1/etc/passwd": b"root:x:0:0",
    b"tmp/e.php": b"e",
    b"etc/cron.d/f": b"f",
    b"outside/g.php": b"g",
}
DIRECTORIES = sorted({os.path.dirname(p) for p in FILES} | {b"home", b"tmp", b"etc"})
NAMES = [
    b"home", b"homeX", b"u1", b"u2", b"virtfs", b"public_html", b"sub", b"a.php", b"b.php",
    b"\xff.php", b"c.php", b"d.php", b"tmp", b"e.php", b"etc", b"cron.d", b"f", b"outside",
    b"g.php", b"passwd", b"link", b"..", b".", b"",
]  # fmt: skip
TARGETS = [
    b"@/etc/cron.d",
    b"@/outside",
    b"@/home/u2",
    b"@/etc/cron.d/f",
    b"../../../etc",
    b"sub",
    b"a.php",
    b"nowhere",
]  # fmt: skip  (@: the tree's root)
LINKS = st.lists(
    st.tuples(st.sampled_from(DIRECTORIES), st.sampled_from([b"link", b"sub", b"a.php", b"u2"]),
              st.sampled_from(TARGETS)),
    max_size=3,
)  # fmt: skip
PATHS = st.one_of(
    st.sampled_from([b"/" + p for p in FILES]),
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=6).map(lambda n: b"/" + b"/".join(n)),
)
ACCOUNT = re.compile(rb"(?!virtfs$)(?!-)[A-Za-z0-9_-]{1,32}")  # virtfs: cPanel's jail mounts
CHANGES = st.sampled_from(["none", "link out", "link in", "removed", "file back"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "state", clock=SystemClock())
    yield opened
    opened.close()


@contextmanager
def tree(base: Path, links: list[tuple[bytes, bytes, bytes]]) -> Iterator[bytes]:
    """A fresh host tree (its root, as bytes) with the files and the links asked for (a link
    replaces whatever had its name: a directory swapped for a link)."""
    root = os.fsencode(tempfile.mkdtemp(dir=base))
    try:
        for name, content in FILES.items():
            path = os.path.join(root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as stream:
                stream.write(content)
        for directory, name, target in links:
            if os.path.isdir(os.path.join(root, directory)):
                _swap(os.path.join(root, directory, name), target.replace(b"@", root, 1))
        yield root
    finally:
        shutil.rmtree(root)


def _swap(path: bytes, target: bytes) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


def snapshot(root: bytes) -> dict[bytes, tuple[str, bytes]]:
    """Every file and link of the tree (the quarantine's own directory left out)."""
    found: dict[bytes, tuple[str, bytes]] = {}
    for directory, dirs, files in os.walk(root):
        relative = os.path.relpath(directory, root)
        if relative == b"opt":
            dirs.clear()
            continue
        for name in files + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                found[os.path.relpath(path, root)] = ("link", os.readlink(path))
            else:
                with open(path, "rb") as stream:
                    found[os.path.relpath(path, root)] = ("file", stream.read())
    return found


def reachable(root: bytes, path: bytes) -> bytes | None:
    """Where ``path`` is when it names a regular file in an account's home or a temporary
    directory through real directories only (relative to the root); else None."""
    parts = [p for p in path.split(b"/") if p not in (b"", b".")]
    home = len(parts) > 2 and parts[0] == b"home" and ACCOUNT.fullmatch(parts[1]) is not None
    if b".." in parts or not (home or (len(parts) > 1 and parts[0] == b"tmp")):
        return None
    for depth in range(1, len(parts)):
        try:
            if not stat.S_ISDIR(os.lstat(os.path.join(root, *parts[:depth])).st_mode):
                return None
        except FileNotFoundError:
            return None
    return b"/".join(parts)


def regular(root: bytes, relative: bytes | None) -> bool:
    try:
        return relative is not None and stat.S_ISREG(os.lstat(os.path.join(root, relative)).st_mode)
    except OSError:
        return False


def quarantine(root: bytes, store: Store) -> Quarantine:
    clock = SystemClock()
    logs = Path(os.fsdecode(root)) / "opt" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    host = Host(Path(os.fsdecode(root)))
    return Quarantine(host, store, AuditLog(store, logs, clock), clock, QUARANTINE)


def kept(root: bytes, entry_id: str) -> bytes:
    with open(os.path.join(root, QUARANTINE.lstrip("/").encode(), entry_id.encode()), "rb") as f:
        return f.read()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # one store for every example: entries accumulate, as on a host
@given(links=LINKS, path=PATHS, change=CHANGES, depth=st.integers(0, 5))
def test_put_and_restore_act_only_through_real_directories(
    tmp_path_factory: pytest.TempPathFactory,
    store: Store,
    links: list[tuple[bytes, bytes, bytes]],
    path: bytes,
    change: str,
    depth: int,
) -> None:
    with tree(tmp_path_factory.getbasetemp(), links) as root:
        service, before = quarantine(root, store), snapshot(root)
        where = reachable(root, path)
        if not regular(root, where):
            event("put refused")
            with pytest.raises(CsmError):
                service.put(os.fsdecode(path), "test", "tester")
            assert snapshot(root) == before  # nothing moved, nothing outside touched
            return
        assert where is not None
        entry = service.put(os.fsdecode(path), "test", "tester")
        content = before.pop(where)[1]
        assert snapshot(root) == before and kept(root, entry.id) == content
        _change(root, where, change, depth)
        _restore(service, root, where, entry.id, content)


def _change(root: bytes, where: bytes, change: str, depth: int) -> None:
    """Between put and restore: a directory on the way swapped for a link (to outside or to
    another account), removed, or a new file at the name."""
    parts = where.split(b"/")
    directory = os.path.join(root, *parts[: 1 + depth % (len(parts) - 1)])
    if change == "file back":
        with open(os.path.join(root, where), "wb") as stream:
            stream.write(b"new")
    elif change != "none":
        aside = os.path.join(root, b"moved-aside")
        os.rename(directory, aside)
        if change != "removed":
            os.symlink(
                os.path.join(root, b"etc" if change == "link out" else b"home/u2"), directory
            )


def _restore(service: Quarantine, root: bytes, where: bytes, entry_id: str, content: bytes) -> None:
    before = snapshot(root)
    if reachable(root, b"/" + where) is None or os.path.lexists(os.path.join(root, where)):
        event("restore refused")
        with pytest.raises(CsmError):
            service.restore(entry_id, "tester")
        assert snapshot(root) == before  # nothing written, through the link or anywhere
        assert kept(root, entry_id) == content  # the copy is kept
        return
    event("restored")
    service.restore(entry_id, "tester")
    assert snapshot(root) == {**before, where: ("file", content)}


# -- the review's cases, through the command ----------------------------------------------------


def test_a_link_on_the_way_out_is_not_followed(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[0].user
    outside = drill.root / "etc" / "cron.d"
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "job").write_text("* * * * * root true\n")
    (drill.root / "home" / user / "public_html" / "link").symlink_to(outside)
    refused = cli("quarantine", f"/home/{user}/public_html/link/job", "--json")
    assert refused.code == 3 and "symbolic link" in refused.json()["error"]
    assert (outside / "job").read_text() == "* * * * * root true\n"


def test_a_restore_through_a_swapped_directory_writes_nothing_there(
    cli: Any, drill: DrillHost
) -> None:
    user = drill.accounts[1].user
    real = drill.root / "home" / user / WEBSHELL
    content = real.read_bytes()
    entry = cli("quarantine", f"/home/{user}/{WEBSHELL}", "--json").json()
    cron = drill.root / "etc" / "cron.d"
    cron.mkdir(parents=True, exist_ok=True)
    before = sorted(os.listdir(cron))
    real.parent.rename(real.parent.with_name("aside"))
    real.parent.symlink_to(cron)  # the file's directory is now a link to /etc/cron.d
    refused = cli("quarantine", "restore", entry["id"], "--json")
    assert refused.code == 3 and "symbolic link" in refused.json()["error"]
    assert sorted(os.listdir(cron)) == before
    real.parent.unlink()
    real.parent.with_name("aside").rename(real.parent)
    assert cli("quarantine", "restore", entry["id"]).code == 0  # kept, still restorable
    assert real.read_bytes() == content


def test_a_prefix_of_home_is_no_home(cli: Any, drill: DrillHost) -> None:
    user = drill.accounts[0].user
    lookalike = drill.root / "homeX" / user / "x.php"
    lookalike.parent.mkdir(parents=True)
    lookalike.write_text("<?php system($_GET['c']);")
    assert cli("quarantine", f"/homeX/{user}/x.php").code == 3
    assert cli("quarantine", f"/home/{user}/../../homeX/{user}/x.php").code == 3
    assert lookalike.exists()


def test_the_quarantine_directory_is_always_private(cli: Any, drill: DrillHost) -> None:
    directory = drill.root / "opt" / "csm" / "quarantine"
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)  # as another command, or an older CSM, left it
    user = drill.accounts[1].user
    assert cli("quarantine", f"/home/{user}/{WEBSHELL}").code == 0
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_the_configured_home_root_is_the_home_area(tmp_path: Path, store: Store) -> None:
    root = tmp_path / "host"
    for path in ("srv/homes/u1/x.php", "home/u1/y.php"):
        (root / path).parent.mkdir(parents=True)
        (root / path).write_bytes(b"<?php")
    service = quarantine(os.fsencode(root), store)
    service.home_dir = "/srv/homes"
    assert service.put("/srv/homes/u1/x.php", "test", "tester").path == "/srv/homes/u1/x.php"
    with pytest.raises(CsmError, match="not in a hosting account's home"):
        service.put("/home/u1/y.php", "test", "tester")
    with pytest.raises(CsmError, match="not in a hosting account's home"):
        service.put("/srv/homesX/u1/x.php", "test", "tester")
    assert not (root / "srv/homes/u1/x.php").exists() and (root / "home/u1/y.php").exists()
