"""The host seam: every host path and every subprocess goes through here.

Host paths (``/etc/userdomains``, ``/var/spool/exim``) are resolved under ``paths.root`` so that
tests, the demo and benchmarks run against a simulated hosting server.  :func:`run` is the only
way CSM starts a process: an argument list (never a shell), a timeout, captured output, and a typed
error when the command is missing, fails or times out.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from csm.errors import CommandError, CommandNotFoundError, CommandTimeoutError

_STDERR_TAIL = 400


@dataclass(frozen=True, slots=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")


class Runner(Protocol):
    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        stdin: bytes | None = None,
        check: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> Completed: ...


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    stdin: bytes | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> Completed:
    """Run ``argv`` without a shell; raise a typed error on a missing binary, failure or timeout."""
    args = _checked_argv(argv)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            args,
            input=stdin,
            capture_output=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise CommandNotFoundError(f"command not found: {args[0]}") from exc
    except PermissionError as exc:
        raise CommandError(f"cannot execute {args[0]}: {exc.strerror}") from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandTimeoutError(f"{args[0]} did not finish within {timeout:g}s") from exc
    done = Completed(tuple(args), proc.returncode, proc.stdout, proc.stderr, _since(started))
    if check and done.returncode != 0:
        raise CommandError(_failure_message(done))
    return done


def _checked_argv(argv: Sequence[str]) -> list[str]:
    if isinstance(argv, str | bytes) or not argv:
        raise CommandError("a command must be a non-empty argument list")
    args = list(argv)
    for arg in args:
        if not isinstance(arg, str) or "\x00" in arg:
            raise CommandError(f"invalid command argument: {arg!r}")
    return args


def _since(started: float) -> float:
    return round(time.monotonic() - started, 6)


def _failure_message(done: Completed) -> str:
    tail = done.stderr.decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
    detail = f": {tail}" if tail else ""
    return f"{done.argv[0]} exited with status {done.returncode}{detail}"


@dataclass(frozen=True, slots=True)
class Host:
    """A hosting server as CSM sees it: a root directory and a way to run commands."""

    root: Path
    runner: Runner = run

    def path(self, host_path: str | os.PathLike[str]) -> Path:
        """The real location of an absolute host path, lexically confined under :attr:`root`."""
        raw = os.fspath(host_path)
        if not raw.startswith("/"):
            raise ValueError(f"host paths must be absolute: {raw!r}")
        if "\x00" in raw:
            raise ValueError("host paths cannot contain NUL")
        relative = posixpath.normpath(raw).lstrip("/")
        return self.root / relative if relative and relative != "." else self.root
