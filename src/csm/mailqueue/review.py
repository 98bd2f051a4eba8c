"""``csm queue review``: every message in one of the runbook's three groups, with its reasons.

- ``safe_to_remove``: frozen bounces, obvious backscatter (a bounce to an address this server
  does not host), duplicate failed-delivery notices;
- ``needs_review``: mail tied to an account whose credentials are not rotated or deferred, mail
  from a mailbox an open incident names, PHP-script mail, mixed external bulk;
- ``do_not_touch``: replies in conversations, invoices and orders, form leads, delivery reports
  to this server's own customers, and anything whose business value is unclear.

Rules are data (``mail.queue_review``) and conservative: a message no rule places is left
alone.  A needs-review reason outranks a business-looking subject (spam from a stolen mailbox
says "Invoice" too)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from csm.accounts.domains import DomainMap
from csm.config.queuerules import QueueRules
from csm.mailqueue.gate import Gate
from csm.mailqueue.model import QueuedMessage

Group = Literal["safe_to_remove", "needs_review", "do_not_touch"]
GROUPS: Final = ("safe_to_remove", "needs_review", "do_not_touch")


@dataclass(frozen=True, slots=True)
class Verdict:
    id: str
    group: Group
    reasons: tuple[str, ...]
    account: str
    sender: str
    subject: str
    frozen: bool


@dataclass(frozen=True, slots=True)
class Context:
    rules: QueueRules
    domains: DomainMap
    gate: Gate  # whether an account's credentials were rotated or deferred
    incident_mailboxes: frozenset[str]  # mailboxes open incidents name


def review(messages: Iterable[QueuedMessage], context: Context) -> list[Verdict]:
    verdicts, seen_bounces = [], set[tuple[str, ...]]()
    for message in messages:
        if message.null_sender:
            group, reasons = _bounce(message, context, seen_bounces)
        else:
            group, reasons = _mail(message, context)
        verdicts.append(
            Verdict(
                message.id,
                group,
                reasons,
                message.account,
                message.sender,
                message.header("Subject"),
                message.frozen,
            )
        )
    return verdicts


def _bounce(
    message: QueuedMessage, context: Context, seen: set[tuple[str, ...]]
) -> tuple[Group, tuple[str, ...]]:
    if message.frozen:
        return "safe_to_remove", ("frozen bounce: an undeliverable delivery report",)
    key = (message.header("Subject").lower(), *sorted(r.lower() for r in message.recipients))
    if key in seen:
        return "safe_to_remove", ("duplicate failed-delivery notice",)
    seen.add(key)
    local = [r for r in message.recipients if context.domains.owner(r)]
    if local:
        return "do_not_touch", (f"a delivery report to a customer of this server ({local[0]})",)
    if _has(message.header("Subject"), context.rules.bounce_subjects):
        return "safe_to_remove", ("backscatter: a bounce to an address this server does not host",)
    return "do_not_touch", ("null sender, but not recognisably a bounce",)


def _mail(message: QueuedMessage, context: Context) -> tuple[Group, tuple[str, ...]]:
    suspicious = _suspicious(message, context)
    if suspicious:
        return "needs_review", suspicious
    rules, subject = context.rules, message.header("Subject")
    if any(message.header(name) for name in rules.conversation_headers):
        return "do_not_touch", ("a reply in an existing conversation",)
    if _has(subject, rules.business_subjects):
        return "do_not_touch", ("business mail (invoice, order, …)",)
    if _has(subject, rules.lead_subjects):
        return "do_not_touch", ("a website form lead",)
    return "do_not_touch", ("business value unclear",)


def _suspicious(message: QueuedMessage, context: Context) -> tuple[str, ...]:
    reasons = []
    if message.account and not context.gate.passes(message.account):
        reasons.append(
            f"account {message.account} has open incidents and its credentials are not"
            " rotated or deferred"
        )
    named = {message.auth_id.lower(), message.sender.lower()} & context.incident_mailboxes
    if named:
        reasons.append(f"sent as {sorted(named)[0]}, which an open incident names")
    php = message.script()
    if php:
        reasons += _script(message, php, context)
    domains = {r.rpartition("@")[2].lower() for r in message.recipients}
    external = {d for d in domains if not context.domains.owner(d)}
    if len(external) >= context.rules.bulk_recipient_domains:
        reasons.append(f"bulk: {len(message.recipients)} recipients on {len(external)} domains")
    return tuple(reasons)


def _script(message: QueuedMessage, php: str, context: Context) -> list[str]:
    """PHP mail is suspicious when it claims a From domain that is not its account's, or comes
    from a mass mailer (a site's own contact form does neither)."""
    found = []
    sender = _address(message.header("From"))
    owner = context.domains.owner(sender) if sender else ""
    if sender and owner != message.account:
        found.append(f"the PHP script {php} sends as {sender}, not an address of its account")
    mailer = message.header("X-Mailer")
    if _has(mailer, context.rules.suspicious_mailers):
        found.append(f"the PHP script {php} sends with a mass mailer ({mailer[:40]})")
    return found


def _address(header: str) -> str:
    """The address of a From header: ``Name <a@b>`` or ``a@b``."""
    start, end = header.rfind("<"), header.rfind(">")
    address = header[start + 1 : end] if 0 <= start < end else header
    return address.strip().lower() if "@" in address else ""


def _has(text: str, needles: Iterable[str]) -> bool:
    low = text.lower()
    return any(n.lower() in low for n in needles)
