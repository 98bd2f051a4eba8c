from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm.errors import CommandError, CommandNotFoundError, CommandTimeoutError
from csm.host import Host, run


def test_host_paths_resolve_under_root(tmp_path: Path) -> None:
    host = Host(tmp_path)
    assert host.path("/etc/userdomains") == tmp_path / "etc/userdomains"
    assert host.path("/") == tmp_path
    assert host.path("/var/../etc/./passwd") == tmp_path / "etc/passwd"


def test_relative_host_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="absolute"):
        Host(tmp_path).path("etc/passwd")


@given(st.text(alphabet=st.sampled_from("/.ab\x00"), min_size=1, max_size=40))
def test_no_host_path_escapes_the_root(raw: str) -> None:
    root = Path("/srv/simulated")
    try:
        resolved = Host(root).path("/" + raw)
    except ValueError:
        return
    assert resolved == root or root in resolved.parents


def test_run_captures_output_and_never_uses_a_shell() -> None:
    done = run(["echo", "a;b", "$(id)"], timeout=10)
    assert done.returncode == 0
    assert done.text == "a;b $(id)\n"


def test_run_raises_typed_errors() -> None:
    with pytest.raises(CommandNotFoundError):
        run(["/nonexistent/binary"], timeout=5)
    with pytest.raises(CommandError, match="status 3: boom"):
        run([sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"], timeout=10)
    with pytest.raises(CommandTimeoutError):
        run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.3)


def test_run_with_check_false_returns_the_status() -> None:
    done = run([sys.executable, "-c", "import sys; sys.exit(4)"], timeout=10, check=False)
    assert done.returncode == 4


@pytest.mark.parametrize("argv", [[], "echo hi", ["echo", "a\x00b"]])
def test_run_refuses_strings_empty_lists_and_nul(argv: object) -> None:
    with pytest.raises(CommandError):
        run(argv, timeout=5)  # type: ignore[arg-type]


def test_run_passes_stdin() -> None:
    assert run(["cat"], timeout=10, stdin=b"queued\n").stdout == b"queued\n"


def test_the_isolation_fixture_forbids_the_real_root() -> None:
    with pytest.raises(pytest.fail.Exception, match="real machine"):
        Host(Path("/")).path("/etc/passwd")
