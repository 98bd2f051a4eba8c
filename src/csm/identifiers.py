"""Validation of every identifier before it reaches a subprocess, a path or SQL.

Each validator returns the value unchanged or raises :class:`InvalidIdentifierError`; callers
use the returned value so that an unvalidated string cannot slip past by accident.
"""

from __future__ import annotations

import re

from csm.errors import InvalidIdentifierError

ACCOUNT = re.compile(r"[A-Za-z0-9_-]{1,32}")
EXIM_MESSAGE_ID = re.compile(r"[A-Za-z0-9-]{16,32}")
SQL_IDENTIFIER = re.compile(r"[A-Za-z0-9_$@.-]{1,64}")
CITADEL_MESSAGE_NUMBER = re.compile(r"[1-9][0-9]{0,18}")


def account(name: str) -> str:
    """A hosting account (cPanel user) name."""
    return _match(ACCOUNT, name, "account name")


def exim_message_id(message_id: str) -> str:
    """An Exim message id, old (16 chars) or new (23 chars) format."""
    return _match(EXIM_MESSAGE_ID, message_id, "Exim message id")


def citadel_message_number(number: str) -> str:
    """A Citadel message number (a positive decimal of at most 19 digits)."""
    return _match(CITADEL_MESSAGE_NUMBER, number, "Citadel message number")


def queue_message_id(message_id: str) -> str:
    """A queued message's id: an Exim message id, or the number of a Citadel queue job."""
    if isinstance(message_id, str) and CITADEL_MESSAGE_NUMBER.fullmatch(message_id):
        return message_id
    return _match(EXIM_MESSAGE_ID, message_id, "queued message id")


def quote_sql_identifier(name: str) -> str:
    """A validated schema/table/object name, back-quoted for MariaDB."""
    return "`" + _match(SQL_IDENTIFIER, name, "SQL identifier") + "`"


def _match(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value) or value.startswith("-"):
        raise InvalidIdentifierError(f"invalid {what}: {value!r}")
    return value
