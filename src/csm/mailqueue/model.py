"""What CSM knows about a queued message, read from the spool (or from ``exim -bp``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

HEADERS_KEPT: Final = (
    "From", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References", "X-PHP-Script",
    "X-Mailer", "To", "Date", "Content-Type", "Auto-Submitted",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    value: str  # as in the message: unfolded, encoded words decoded for display
    flag: str  # Exim's header flag: " " plain, "*" deleted, F/T/C/B/I/R/S/P identified


@dataclass(slots=True)  # not frozen: its account is filled in after reading (owner.resolve)
class QueuedMessage:
    id: str
    received: int  # epoch seconds
    size: int  # bytes, as ``exim -bp`` counts them (headers + body)
    frozen: bool
    sender: str  # "" for the null sender ("<>": bounces)
    recipients: tuple[str, ...]  # still to deliver
    delivered: tuple[str, ...] = ()
    local_user: str = ""  # line 2 of -H: the user that submitted (cPanel: the account's PHP)
    uid: int = -1
    auth_id: str = ""  # the authenticated login (SMTP AUTH)
    authenticator: str = ""  # e.g. dovecot_login
    protocol: str = ""  # esmtpa, local, …
    host_address: str = ""  # the client's IP
    host_name: str = ""
    headers: tuple[Header, ...] = ()  # the headers in HEADERS_KEPT, in order
    account: str = ""  # the hosting account it belongs to ("" when unknown)
    account_source: str = ""  # how the account was found: local_user, auth_id, sender, script
    source: str = "spool"  # "spool" (read from -H) or "exim -bp" (the fallback)

    def header(self, name: str) -> str:
        """The first ``name`` header's value ("" when absent); case-insensitive."""
        low = name.lower()
        return next((h.value for h in self.headers if h.name.lower() == low), "")

    @property
    def null_sender(self) -> bool:
        return not self.sender


@dataclass(frozen=True, slots=True)
class SpoolProblem:
    """A spool file CSM could not read: reported, and the message skipped."""

    id: str
    path: str
    error: str


@dataclass(slots=True)
class QueueRead:
    messages: list[QueuedMessage] = field(default_factory=list)
    problems: list[SpoolProblem] = field(default_factory=list)
    source: str = "spool"  # "spool", or "exim -bp" when the spool could not be read
