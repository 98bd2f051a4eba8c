"""Shared code of the ``uapi`` and ``whmapi1`` stand-ins (standard library only).

The stand-ins read and change a simulated cPanel host under ``$CSM_STANDIN_ROOT``: the host
path ``/var/cpanel/users/bob`` is ``$CSM_STANDIN_ROOT/var/cpanel/users/bob``.  Everything
here is plumbing: command-line parsing, cPanel's reply shapes, reading the host's files,
SHA-512 crypt hashing, atomic writes and the call log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

ROOT_ENV = "CSM_STANDIN_ROOT"
STANDIN_DIR = "/var/cpanel/standin"
USER_RE = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,31}")
DOMAIN_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
LOCAL_RE = re.compile(r"[^\s:/@\\]{1,64}")


class ApiError(Exception):
    """An error cPanel reports in its reply (UAPI ``status: 0``, WHM API 1 ``result: 0``)."""


class UsageError(Exception):
    """A command-line problem: the tool prints an error reply and exits non-zero."""


Args = dict[str, str]
T = TypeVar("T")


@dataclass
class Invocation:
    """``tool --opt=value ... NAME [NAME] key=value ...`` taken apart."""

    options: dict[str, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    args: Args = field(default_factory=dict)
    bad: list[str] = field(default_factory=list)  # arguments without ``=``

    def check_args(self) -> Args:
        """The arguments, or cPanel's error for one that is not ``key=value``."""
        if self.bad:
            raise ApiError(f"The argument “{self.bad[0]}” is not in the form key=value.")
        return self.args


def parse_argv(argv: list[str], allowed: set[str], name_count: int, usage: str) -> Invocation:
    """Split options (``--key=value``, anywhere on the line, as the real tools take them: the
    runbook writes ``uapi --user=U Email list_pops --output=json``), the module/function names
    and the ``key=value`` arguments (split on the first ``=`` only)."""
    inv = Invocation()
    rest = []
    for token in argv:
        if not token.startswith("--"):
            rest.append(token)
            continue
        key, _, value = token[2:].partition("=")
        if key not in allowed:
            raise UsageError(f"Unknown option “--{key}”. Usage: {usage}")
        inv.options[key] = value
    if len(rest) < name_count:
        raise UsageError(f"Usage: {usage}")
    inv.names, rest = rest[:name_count], rest[name_count:]
    for token in rest:
        key, sep, value = token.partition("=")
        if sep and key:
            inv.args[key] = value
        else:
            inv.bad.append(token)
    return inv


# ---------------------------------------------------------------------------- replies


def uapi_reply(module: str, func: str, data: Any = None, errors: list[str] | None = None) -> Any:
    """UAPI's reply: ``status`` 1 with ``data``, or 0 with ``errors``."""
    return {
        "apiversion": 3,
        "func": func,
        "module": module,
        "result": {
            "data": None if errors else data,
            "errors": errors or None,
            "messages": None,
            "metadata": {},
            "status": 0 if errors else 1,
            "warnings": None,
        },
    }


def whm_reply(func: str, data: Any = None, error: str | None = None) -> Any:
    """WHM API 1's reply: ``metadata.result`` 1 and reason ``OK``, or 0 and the error text."""
    return {
        "data": {} if error or data is None else data,
        "metadata": {
            "command": func,
            "reason": error or "OK",
            "result": 0 if error else 1,
            "version": 1,
        },
    }


def emit(reply: Any, output: str) -> None:
    """Print the reply: compact JSON for ``json``, indented for ``jsonpretty``, and for the
    default (YAML) a YAML document in JSON flow style, which YAML parsers read alike."""
    if output == "json":
        text = json.dumps(reply, ensure_ascii=False)
    elif output == "jsonpretty":
        text = json.dumps(reply, ensure_ascii=False, indent=3)
    else:
        text = "---\n" + json.dumps(reply, ensure_ascii=False, indent=2)
    sys.stdout.buffer.write((text + "\n").encode("utf-8", errors="replace"))
    sys.stdout.flush()


# ------------------------------------------------------------------------ arguments


def require(args: Mapping[str, str], *names: str) -> list[str]:
    """The named arguments' values; a missing or empty one is cPanel's "required" error."""
    for name in names:
        if not args.get(name):
            raise ApiError(f"The parameter “{name}” is required.")
    return [args[name] for name in names]


def check_password(password: str) -> str:
    if "\n" in password or "\r" in password or "\0" in password:
        raise ApiError("The password may not contain line breaks or NUL characters.")
    return password


def check_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    if not DOMAIN_RE.fullmatch(domain):
        raise ApiError(f"“{domain}” is not a valid domain name.")
    return domain


def redact(args: Mapping[str, str]) -> dict[str, str]:
    """The arguments with every password-like value replaced by ``<redacted>``."""
    return {
        k: "<redacted>" if "pass" in k.lower() or k.lower() == "pw" else v for k, v in args.items()
    }


# ------------------------------------------------------------------------- the host


@dataclass(frozen=True)
class Host:
    """The simulated host's root directory."""

    root: Path

    @classmethod
    def from_env(cls) -> Host:
        value = os.environ.get(ROOT_ENV, "")
        if not value:
            raise UsageError(
                f"{ROOT_ENV} is not set: the cPanel stand-in needs the root "
                "directory of the simulated host."
            )
        root = Path(value)
        if not root.is_dir():
            raise UsageError(f"{ROOT_ENV}={value} is not a directory.")
        return cls(root)

    def path(self, host_path: str) -> Path:
        """The file for a host path; ``..`` cannot climb above the simulated root."""
        return self.root / os.path.normpath("/" + host_path).lstrip("/")

    def read(self, host_path: str) -> str | None:
        """A text file's content, or None if it is missing or unreadable."""
        try:
            return self.path(host_path).read_text(encoding="utf-8", errors="surrogateescape")
        except OSError:
            return None

    def home(self, user: str) -> str:
        """The account's home directory from ``/etc/passwd``, else ``/home/<user>``."""
        for row in colon_fields(self.read("/etc/passwd") or ""):
            if row[0] == user and len(row) >= 7 and row[5].startswith("/"):
                return os.path.normpath(row[5])
        return f"/home/{user}"

    def users(self) -> list[str]:
        folder = self.path("/var/cpanel/users")
        names = (p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else ()
        return sorted(n for n in names if USER_RE.fullmatch(n))

    def account(self, user: str) -> dict[str, str] | None:
        """``/var/cpanel/users/<user>`` as a dict, or None if there is no such account."""
        if not USER_RE.fullmatch(user):
            return None
        text = self.read(f"/var/cpanel/users/{user}")
        return None if text is None else parse_kv(text)

    def domains(self, user: str) -> list[str]:
        """The account's domains: main first, then addon, parked and subdomains."""
        text = self.read(f"/var/cpanel/userdata/{user}/main")
        if text is None:
            acct = self.account(user) or {}
            found = [v for k, v in sorted(acct.items()) if re.fullmatch(r"DNS\d*", k)]
        else:
            data = parse_userdata(text)
            found = [str(data.get("main_domain") or "")]
            for key in ("addon_domains", "parked_domains", "sub_domains"):
                found += list(data.get(key) or [])
        clean = [d.lower() for d in found if DOMAIN_RE.fullmatch(str(d).lower())]
        return list(dict.fromkeys(clean))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the stand-in's lock (``/var/cpanel/standin/lock``) so that concurrent changes
        do not lose each other's read-modify-write."""
        path = self.path(f"{STANDIN_DIR}/lock")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def log_call(self, entry: Mapping[str, Any]) -> None:
        """Append one JSON line to ``/var/cpanel/standin/calls.log`` (mode 0600)."""
        path = self.path(f"{STANDIN_DIR}/calls.log")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        line = json.dumps({"time": int(time.time()), **entry}, ensure_ascii=False) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def parse_kv(text: str) -> dict[str, str]:
    """``KEY=value`` lines; anything else is skipped."""
    pairs = (line.partition("=") for line in text.splitlines())
    return {k.strip(): v.strip() for k, sep, v in pairs if sep and k.strip()}


def parse_userdata(text: str) -> dict[str, Any]:
    """The subset of YAML that ``/var/cpanel/userdata/<user>/main`` uses: top-level scalars,
    block lists (``- item``), one-level mappings (``  key: value``) and ``[]`` / ``{}``."""
    data: dict[str, Any] = {}
    key = ""
    for line in text.splitlines():
        item = line.strip()
        if not item or item.startswith("#") or item in ("---", "..."):
            continue
        if item.startswith("- ") and key:
            _container(data, key, list).append(_scalar(item[2:]))
        elif line[0].isspace() and key and ":" in item:
            name, _, value = item.partition(":")
            _container(data, key, dict)[_scalar(name)] = _scalar(value)
        elif not line[0].isspace():
            name, _, value = line.partition(":")
            key = name.strip()
            data[key] = _flow(value.strip())
    return data


def _container(data: dict[str, Any], key: str, kind: type[T]) -> T:
    if not isinstance(data.get(key), kind):
        data[key] = kind()
    return cast(T, data[key])


def _flow(value: str) -> Any:
    if value in ("", "~", "null"):
        return None
    if value.startswith("[") and value.endswith("]"):
        return [_scalar(v) for v in value[1:-1].split(",") if v.strip()]
    if value == "{}":
        return {}
    return _scalar(value)


def _scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


# ------------------------------------------------------------------ files and hashes


def sha512_crypt(password: str) -> str:
    """A ``$6$`` SHA-512 crypt hash: the ``crypt`` module if there is one, else openssl."""
    module = _crypt_module()
    if module is not None:
        return str(module.crypt(password, module.mksalt(module.METHOD_SHA512)))
    done = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.startswith("$6$"):
        raise ApiError(f"Could not hash the password: {done.stderr.strip()}")
    return done.stdout.strip()


def _crypt_module() -> Any:
    """The deprecated ``crypt`` module (gone in Python 3.13), or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt  # noqa: PLC0415 - deprecated: imported only where it exists
        except ImportError:
            return None
    return crypt


def atomic_write(path: Path, text: str, mode: int | None = None) -> None:
    """Replace ``path`` by way of a temporary file in the same directory (fsync, then
    ``os.replace``).  The file keeps its mode (and owner, where allowed) unless ``mode``."""
    old = path.stat() if path.exists() else None
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as out:
            out.write(text)
            out.flush()
            os.fchmod(
                out.fileno(), mode if mode is not None else (old.st_mode & 0o7777 if old else 0o600)
            )
            if old is not None:
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.fchown(out.fileno(), old.st_uid, old.st_gid)
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def colon_fields(text: str) -> list[list[str]]:
    """The well-formed lines of a colon-separated file (passwd, shadow, proftpd)."""
    rows = (line.split(":") for line in text.splitlines())
    return [row for row in rows if len(row) >= 2 and row[0]]


def replace_fields(text: str, key: str, change: Callable[[list[str]], None]) -> str | None:
    """``text`` with ``change`` applied to the fields of the line whose first field is
    ``key``; every other line stays as it was.  None if no line has that key."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        fields = body.split(":")
        if len(fields) >= 2 and fields[0] == key:
            change(fields)
            lines[i] = ":".join(fields) + line[len(body) :]
            return "".join(lines)
    return None


# ---------------------------------------------------------------------------- main


def run_guarded(body: Callable[[], int], fail: Callable[[str], Any], output: str) -> int:
    """Run a tool's body; a usage error or an unexpected failure becomes an error reply and
    exit status 1 instead of a traceback."""
    try:
        return body()
    except UsageError as exc:
        emit(fail(str(exc)), output)
    except Exception as exc:  # never a traceback on stdout or stderr
        emit(fail(f"Internal error in the cPanel stand-in: {type(exc).__name__}: {exc}"), output)
    return 1


def output_of(argv: list[str]) -> str:
    """The ``--output=`` value (anywhere on the line), looked up before the full parse so
    errors use it too."""
    for token in argv:
        if token.startswith("--output="):
            return token.split("=", 1)[1]
    return "yaml"
