"""``csm queue``: the mail queue read, summarised, listed and shown, with each message's
hosting account.  Reading has no side effects; showing a body is recorded (privacy)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from csm.accounts.domains import DomainMap
from csm.audit import OnDemandAudit
from csm.clock import Clock
from csm.errors import NotFoundError, UsageError
from csm.identifiers import queue_message_id as message_id
from csm.mailqueue import owner, spoolfiles, views
from csm.mailqueue.index import OwnersKept, SpoolIndex
from csm.mailqueue.model import QueuedMessage, QueueRead, brief
from csm.mailqueue.source import QueueSource
from csm.mailqueue.summary import summarise


@dataclass(frozen=True, slots=True)
class Shown:
    message: QueuedMessage
    header_file: str  # the -H file, as ``exim -Mvh`` prints it
    body: str | None = None  # only with --body (and then recorded in the audit log)
    body_truncated: bool = False


@dataclass
class MailQueue:
    queue: QueueSource
    domains: DomainMap
    users: frozenset[str]
    clock: Clock
    audit: OnDemandAudit  # the store opens only when something is recorded
    index_path: str | None = None  # the spool index (summaries); None: read every file
    owners_kept: OwnersKept | None = None  # the owners as read, saved with the index

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def count(self) -> int:
        return self.queue.count()

    def read(self) -> QueueRead:
        """Every queued message with its account (reported problems alongside)."""
        found = self.queue.read(self.now())
        resolved = [owner.resolve(m, self.domains, self.users) for m in found.messages]
        return replace(found, messages=resolved)

    def summary(self, by: views.By) -> views.Summary:
        if by not in views.BYS:
            raise UsageError(f"--by must be one of {', '.join(views.BYS)}")
        owners = owner.Owners(self.domains, self.users)
        indexed = self.queue.indexed_input
        if self.index_path is not None and indexed is not None:
            index = SpoolIndex.load(self.index_path)
            try:
                return summarise(index, indexed, owners, by, self.owners_kept)
            except OSError:
                pass  # the spool is unreadable: `exim -bp` tells what it can
        found = self.queue.read(self.now())
        briefs = [brief(m) for m in found.messages]
        return views.summary(
            briefs, owners.accounts(briefs), by, found.source, tuple(found.problems)
        )

    def list(self, where: views.Filter) -> QueueRead:
        """The messages ``where`` selects (and the spool files that could not be read)."""
        found = self.read()
        return replace(found, messages=views.listed(found.messages, where, self.now()))

    def ids(self, account: str, *, frozen: bool = False) -> tuple[str, ...]:
        """The account's queued message ids (only the frozen ones: ``frozen``)."""
        where = views.Filter(account=account, frozen=frozen)
        return tuple(m.id for m in self.list(where).messages)

    def message(self, msgid: str) -> QueuedMessage:
        found = self.queue.message(message_id(msgid))
        if found is None:
            raise NotFoundError(
                f"message {msgid} is not in the queue (delivered or removed?)",
                fix=f"if `csm queue remove` took it: csm queue quarantine show {msgid}",
            )
        return owner.resolve(found, self.domains, self.users)

    def show(self, msgid: str, *, body: bool, who: str) -> Shown:
        message = self.message(msgid)
        header_file = self.queue.header_file(message.id).decode("utf-8", "replace")
        if not body:
            return Shown(message, header_file)
        self.audit.log().record(
            who,
            "queue.show_body",
            message.id,
            {"account": message.account, "sender": message.sender},
        )
        return Shown(message, header_file, *spoolfiles.body(self.queue.body_file(message.id)))
