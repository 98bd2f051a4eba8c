"""Typed errors, and the one table that maps them to exit codes and HTTP statuses.

Only the CLI's ``main()`` and the API's exception handler catch :class:`CsmError`; everything
else raises the most specific subclass and lets it travel.  ``docs/cli.md``'s exit-code table is
generated from :data:`EXIT_CODES`, and a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """How one family of errors surfaces: its JSON code, exit code, HTTP status and meaning."""

    code: str
    exit_code: int
    http_status: int
    meaning: str


class CsmError(Exception):
    """Base of every error CSM reports to an operator."""

    kind = ErrorKind("error", 1, 500, "Unexpected failure; the message says what went wrong.")

    def __init__(
        self, message: str, *, fix: str | None = None, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.details = details

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def exit_code(self) -> int:
        return self.kind.exit_code


class UsageError(CsmError):
    kind = ErrorKind(
        "usage", EXIT_USAGE, 400, "The command line was wrong (unknown option, bad value)."
    )


class ConfigError(CsmError):
    """The configuration could not be read or is invalid."""

    kind = ErrorKind("config", 4, 500, "The configuration is missing or invalid (`csm validate`).")

    def __init__(
        self, message: str, *, problems: tuple[ConfigProblem, ...] = (), fix: str | None = None
    ) -> None:
        super().__init__(message, fix=fix)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One invalid setting: its dotted key path, what is wrong, and the file that set it."""

    path: str
    message: str
    source: str | None = None


class NotFoundError(CsmError):
    kind = ErrorKind(
        "not_found", 1, 404, "The named account, incident, message or file does not exist."
    )


class InvalidIdentifierError(CsmError):
    kind = ErrorKind("invalid_identifier", 2, 400, "An identifier failed validation before use.")


class RefusedError(CsmError):
    """A safety rule refused the action; the message says which rule and how to satisfy it."""

    kind = ErrorKind(
        "refused", 3, 409, "A safety rule refused the action; the message names the rule."
    )


class UnauthorizedError(CsmError):
    """An HTTP request without a valid token or session."""

    kind = ErrorKind("unauthorized", 1, 401, "No valid API token or web UI session was presented.")


class ForbiddenError(CsmError):
    """An HTTP request its token may not make (a read token's write, a failed CSRF or Origin
    check)."""

    kind = ErrorKind(
        "forbidden", 3, 403, "The token's scope, the CSRF token or the Origin does not allow it."
    )


class RateLimitedError(CsmError):
    kind = ErrorKind(
        "rate_limited", 1, 429, "Too many failed logins from this address; wait a minute."
    )


class LockHeldError(CsmError):
    kind = ErrorKind(
        "locked", 5, 409, "The state lock is held (the daemon or another command runs)."
    )

    def __init__(self, message: str, *, pid: int | None = None, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.pid = pid


class CommandError(CsmError):
    """An external command could not start, failed, or timed out."""

    kind = ErrorKind("command_failed", 6, 502, "An external command (exim, mysqldump, …) failed.")


class CommandNotFoundError(CommandError):
    kind = ErrorKind("command_not_found", 6, 502, "An external command is not installed.")


class CommandTimeoutError(CommandError):
    kind = ErrorKind("command_timeout", 6, 504, "An external command did not finish in time.")


class PanelApiError(CommandError):
    """The hosting panel's API (cPanel's uapi/whmapi1) answered, and said no."""

    kind = ErrorKind("panel_api", 6, 502, "cPanel's API refused the request; its message says why.")


class ServiceUnavailableError(CsmError):
    kind = ErrorKind(
        "unavailable", 6, 503, "A service CSM needs (MariaDB, the daemon) did not answer."
    )


class StoreError(CsmError):
    kind = ErrorKind("store", 7, 500, "The state store is missing, unreadable or from a newer CSM.")


class UnreadableInputError(CsmError):
    """An input file (a log, an archive) cannot be read, or is damaged or truncated."""

    kind = ErrorKind(
        "unreadable_input",
        8,
        422,
        "An input file (a log, an archive) is missing, unreadable or damaged.",
    )


class RolledBackError(CsmError):
    """A change failed part-way (a restore's swap) and what was done was undone."""

    kind = ErrorKind(
        "rolled_back", 1, 500, "A change failed part-way and was undone: nothing changed."
    )


ALL_ERRORS: tuple[type[CsmError], ...] = (
    CsmError,
    UsageError,
    ConfigError,
    NotFoundError,
    InvalidIdentifierError,
    RefusedError,
    UnauthorizedError,
    ForbiddenError,
    RateLimitedError,
    LockHeldError,
    CommandError,
    CommandNotFoundError,
    CommandTimeoutError,
    PanelApiError,
    ServiceUnavailableError,
    StoreError,
    UnreadableInputError,
    RolledBackError,
)


def exit_code_table() -> list[tuple[int, str, str]]:
    """(exit code, JSON code, meaning) for every error kind, plus success, in exit-code order."""
    rows = [(EXIT_OK, "-", "Success.")]
    rows += [(e.kind.exit_code, e.kind.code, e.kind.meaning) for e in ALL_ERRORS]
    return sorted(rows, key=lambda row: (row[0], row[1]))


KINDS: dict[str, ErrorKind] = {error.kind.code: error.kind for error in ALL_ERRORS}


def from_reply(
    code: str, message: str, fix: str | None = None, details: Mapping[str, Any] | None = None
) -> CsmError:
    """An error the daemon reported (its JSON ``code``), raised again on this side with the
    same kind: the same exit code, JSON code and HTTP status as if it had happened here."""
    error = CsmError(message, fix=fix, details=details)
    error.kind = KINDS.get(code, CsmError.kind)
    return error
