"""What CSM knows about a queued message, read from the spool (or from ``exim -bp``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from sys import intern
from typing import Final, NamedTuple

HEADERS_KEPT: Final = (
    "From",
    "Reply-To",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "X-PHP-Script",
    "X-Mailer",
    "To",
    "Date",
    "Content-Type",
    "Auto-Submitted",
    "X-CSM-Emergency",
)


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

    def script(self) -> str:
        """``host/path`` of the PHP script that sent it (``X-PHP-Script: host/path for ip``)."""
        return script_path(self.header("X-PHP-Script"))


def script_path(header: str) -> str:
    """``host/path`` of an ``X-PHP-Script`` value (``host/path for ip``, maybe a query)."""
    return header.partition(" for ")[0].partition("?")[0] if header else ""


class Brief(NamedTuple):
    """What the summaries need of a queued message: what the spool index keeps of it."""

    id: str
    received: int
    size: int
    frozen: bool
    sender: str
    domains: tuple[str, ...]  # each pending recipient's domain, lower case, sorted
    local_user: str
    auth_id: str
    subject: str
    script: str  # host/path of the PHP script that sent it ("" for none)


def brief(message: QueuedMessage) -> Brief:
    """The message's brief.  Its texts are interned: most repeat from message to message (the
    same sender, domains, subject), and the spool index then stores and loads each once."""
    domains = tuple(sorted(intern(r.rpartition("@")[2].lower()) for r in message.recipients))
    return Brief(
        message.id,
        message.received,
        message.size,
        message.frozen,
        intern(message.sender),
        domains,
        intern(message.local_user),
        intern(message.auth_id),
        intern(message.header("Subject")),
        intern(message.script()),
    )


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
