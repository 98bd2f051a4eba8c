"""``schema/<schema>-routines.sql``: the schema's structure, triggers, events and routines, as
``mariadb-dump`` (or ``mysqldump`` where MariaDB's name is missing) writes them.

The dump runs through :func:`csm.host.run` (an argument list, never a shell, a timeout).  The
credentials travel in an option file, never on the command line, where any local user could
read them in the process list: ``--defaults-extra-file`` (the first argument, as the client
requires) names a 0600 file in a private 0700 temp directory, which is removed afterwards and is
never part of the archive."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from csm import identifiers, mysql
from csm.accounts.wordpress import SCHEMA
from csm.errors import CommandNotFoundError, InvalidIdentifierError
from csm.host import Host

PROGRAMS = ("mariadb-dump", "mysqldump")
TIMEOUT = 60.0
# --skip-dump-date: the same schema dumps to the same bytes (the archive is byte-stable);
# --single-transaction: a consistent read without LOCK TABLES on the customer's live site.
OPTIONS = (
    "--no-data",
    "--routines",
    "--triggers",
    "--events",
    "--skip-dump-date",
    "--single-transaction",
)
_OPTION_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


@dataclass(frozen=True, slots=True)
class Dumper:
    host: Host
    programs: Sequence[str] = PROGRAMS  # tried in order; the next when one is not installed
    timeout: float = TIMEOUT

    def dump(self, schema: str, options_file: Path) -> bytes:
        """The dump of ``schema`` (validated again here); a typed error when it fails."""
        if not SCHEMA.fullmatch(schema):
            raise InvalidIdentifierError(f"invalid schema name: {schema!r}")
        identifiers.quote_sql_identifier(schema)
        missing: CommandNotFoundError | None = None
        for program in self.programs:
            argv = [program, f"--defaults-extra-file={options_file}", *OPTIONS, schema]
            try:
                return self.host.runner(argv, timeout=self.timeout).stdout
            except CommandNotFoundError as exc:
                missing = exc
        raise missing or CommandNotFoundError("no dump program configured")


@contextmanager
def options_file(creds: mysql.Credentials) -> Iterator[Path]:
    """A ``[client]`` option file holding ``creds``, private to this process, removed after."""
    directory = Path(tempfile.mkdtemp(prefix="csm-forensic-creds-"))
    try:
        os.chmod(directory, 0o700)
        path = directory / "client.cnf"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(path, flags, 0o600), "w", encoding="utf-8") as out:
            out.write(client_options(creds))
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def client_options(creds: mysql.Credentials) -> str:
    """The option file's text.  Values are double-quoted with the escapes the MariaDB client
    reads back (``\\\\``, ``\\"``, ``\\n``, ``\\r``, ``\\t``).  Like :func:`csm.mysql.connect`,
    the socket when one is set, otherwise TCP to host and port."""
    lines = ["[client]", f"user={_value(creds.user)}", f"password={_value(creds.password)}"]
    if creds.unix_socket:
        lines += [f"socket={_value(creds.unix_socket)}", "protocol=SOCKET"]
    else:
        lines += [f"host={_value(creds.host)}", f"port={int(creds.port)}", "protocol=TCP"]
    return "\n".join(lines) + "\n"


def _value(text: str) -> str:
    return '"' + text.translate(_OPTION_ESCAPES) + '"'
