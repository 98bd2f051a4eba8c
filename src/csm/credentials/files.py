"""Credential files edited in place, safely: mailbox ``shadow`` files (cPanel's format) and
Dovecot passwd-files get a new SHA-512 crypt hash; ``wp-config.php`` gets new salts.

Every edit reads the file, changes one thing, writes a temporary file beside it (same mode
and owner), fsyncs, and renames it over the original; a copy of the original is kept first,
root-only, in CSM's state (``credentials/backups``).  A file that does not hold what is to be
changed is left exactly as it was."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import string
from collections.abc import Callable
from datetime import date
from pathlib import Path

from csm import atomic, passwords
from csm.errors import CsmError, NotFoundError

EPOCH = date(1970, 1, 1)
SALT_CHARS = string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_{|}~"
DB_PASSWORD = re.compile(
    r"""(define\s*\(\s*['"]DB_PASSWORD['"]\s*,\s*)(['"])(?:\\.|(?!\2).)*\2""", re.DOTALL
)
SALT_DEFINE = re.compile(
    r"""(define\s*\(\s*['"](?P<name>(?:AUTH|SECURE_AUTH|LOGGED_IN|NONCE)_(?:KEY|SALT))['"]"""
    r"""\s*,\s*)(['"])(?:\\.|(?!\3).)*\3""",
    re.DOTALL,
)


def set_shadow_hash(path: Path, local: str, password: str, backups: Path, today: date) -> None:
    """``local:<hash>:<day>:…`` in a cPanel mailbox shadow file."""

    def change(fields: list[str]) -> list[str]:
        keep_lock = "!" if fields[1].startswith("!") else ""
        fields[1] = keep_lock + passwords.sha512(password)
        if len(fields) > 2:
            fields[2] = str((today - EPOCH).days)
        return fields

    _edit_line(path, local, change, backups)


def set_passwd_file_hash(path: Path, user: str, password: str, backups: Path) -> None:
    """``user@domain:{SHA512-CRYPT}<hash>:…`` in a Dovecot passwd-file."""

    def change(fields: list[str]) -> list[str]:
        fields[1] = "{SHA512-CRYPT}" + passwords.sha512(password)
        return fields

    _edit_line(path, user, change, backups)


def new_wp_salts(path: Path, backups: Path) -> int:
    """Replace every salt/key value in a wp-config.php; how many were replaced."""
    text = _read(path)
    count = 0

    def fresh(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        value = "".join(secrets.choice(SALT_CHARS) for _ in range(64))
        return f"{match.group(1)}'{value}'"

    changed = SALT_DEFINE.sub(fresh, text)
    if count == 0:
        raise NotFoundError(f"{path}: no salt or key definitions to replace")
    _replace(path, changed, backups)
    return count


def set_wp_db_password(path: Path, password: str, backups: Path) -> None:
    """The site's ``DB_PASSWORD`` after its database user's password changed (the site would
    lose its database otherwise)."""
    text = _read(path)
    quoted = password.replace("\\", "\\\\").replace("'", "\\'")
    changed, count = DB_PASSWORD.subn(lambda m: f"{m.group(1)}'{quoted}'", text)
    if count != 1:
        raise CsmError(f"{path}: {count} DB_PASSWORD definitions; change it by hand")
    _replace(path, changed, backups)


def _edit_line(
    path: Path, key: str, change: Callable[[list[str]], list[str]], backups: Path
) -> None:
    text = _read(path)
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.rstrip("\r\n").split(":", 1)[0] == key]
    if len(hits) != 1:
        what = "no line" if not hits else f"{len(hits)} lines"
        raise CsmError(f"{path}: {what} for {key!r}; nothing was changed")
    line = lines[hits[0]]
    ending = line[len(line.rstrip("\r\n")) :]
    fields = line.rstrip("\r\n").split(":")
    if len(fields) < 2:
        raise CsmError(f"{path}: the line for {key!r} is malformed; nothing was changed")
    lines[hits[0]] = ":".join(change(fields)) + ending
    _replace(path, "".join(lines), backups)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CsmError(f"cannot read {path}: {exc}") from None


def _replace(path: Path, text: str, backups: Path) -> None:
    """Back up, then write atomically with the original's mode and owner."""
    info = path.stat()
    backups.mkdir(mode=0o700, parents=True, exist_ok=True)
    backup = backups / f"{secrets.token_hex(6)}-{path.name}"
    shutil.copy2(path, backup)
    os.chmod(backup, 0o600)
    owner = (info.st_uid, info.st_gid)
    try:
        atomic.write_bytes(path, text.encode("utf-8"), mode=info.st_mode & 0o7777, owner=owner)
    except OSError as exc:
        raise CsmError(f"cannot rewrite {path}: {exc}; it is unchanged") from None
