"""``csm queue review`` and ``csm queue decide``: groups proposed with reasons, and the
operator's decision per message (remove, keep, release), which the actions require.

The runbook allows queue actions on reviewed ids only; :class:`ReviewedIdsOnly` is that rule.
A decision rests on a recorded review that covers the message (by default the newest that
does: a message reviewed yesterday and still queued is still reviewed, and a review of one
account covers none of another's messages), or on the operator's explicit approval
(``--approve "reason"``), recorded in the decision and the audit log as decided without
review.  The actions act only on decisions that rest on one of the two."""

from __future__ import annotations

import secrets
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from csm.audit import AuditLog
from csm.clock import Clock
from csm.errors import NotFoundError, RefusedError, UsageError
from csm.identifiers import queue_message_id as message_id
from csm.mailqueue import repo, review
from csm.mailqueue.model import QueueRead
from csm.store.db import Store

DECISIONS = ("remove", "keep", "release")
PROPOSED = {"safe_to_remove": "remove", "do_not_touch": "keep"}  # needs_review: the operator's


@dataclass(frozen=True, slots=True)
class Reviewed:
    id: str  # "" when the review was not recorded
    account: str
    verdicts: tuple[review.Verdict, ...]
    groups: dict[str, int]
    problems: int  # spool files that could not be read (not reviewed)


@dataclass(frozen=True, slots=True)
class Decided:
    decision: str
    ids: tuple[str, ...]
    note: str
    review: str = ""  # the review every id rests on, when it is one review
    reviews: dict[str, str] = field(default_factory=dict)  # id -> the review it rests on
    approval: str = ""  # why the ids in ``approved`` were decided without review
    approved: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewedIdsOnly:
    """Decisions on reviewed ids only: each id in a recorded review, or explicitly approved."""

    conn: sqlite3.Connection

    def grounds(
        self, ids: Sequence[str], review_id: str, approval: str
    ) -> dict[str, repo.Covered | None]:
        """Each id's review (None: it rests on the approval).  Refuses the whole decision when
        an id is in no recorded review (in ``review_id``, when given) and nothing approves it."""
        if review_id and not repo.review_exists(self.conn, review_id):
            raise NotFoundError(f"no queue review {review_id} (csm queue review records one)")
        covered = repo.reviews_of(self.conn, ids, review_id)
        missing = [i for i in ids if i not in covered]
        if missing and not approval:
            raise RefusedError(_unreviewed(missing, review_id), fix=UNREVIEWED_FIX)
        return {i: covered[i][0] if i in covered else None for i in ids}

    def unfounded(self, decided: Sequence[repo.Decision]) -> list[str]:
        """The ids whose decision rests neither on a recorded review that covers the message
        nor on an approval (as decisions recorded before this rule do): not to act upon."""
        reviews = repo.reviews_of(self.conn, [d.msgid for d in decided if d.review])
        return [d.msgid for d in decided if not d.approval and not _rests(d, reviews)]


UNREVIEWED_FIX = (
    "csm queue review  (or: csm queue review --account ACCOUNT), then decide again; or decide"
    ' without review, recorded as such: --approve "reason"'
)


def _unreviewed(missing: Sequence[str], review_id: str) -> str:
    where = f"queue review {review_id}" if review_id else "any recorded queue review"
    shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    return (
        f"{len(missing)} message(s) are not in {where}: {shown}; the runbook allows decisions on"
        " reviewed ids only (nothing was decided)"
    )


def _rests(decision: repo.Decision, reviews: dict[str, list[repo.Covered]]) -> bool:
    return any(c.review == decision.review for c in reviews.get(decision.msgid, ()))


@dataclass
class QueueDecisions:
    store: Store
    audit: AuditLog
    clock: Clock
    read: Callable[[], QueueRead]
    context: review.Context

    def review(self, account: str | None, who: str, *, record: bool = True) -> Reviewed:
        found = self.read()
        messages = [m for m in found.messages if account is None or m.account == account]
        verdicts = review.review(messages, self.context)
        groups = Counter(v.group for v in verdicts)
        review_id = ""
        if record and verdicts:
            now = self.clock.now()
            review_id = f"QR-{now:%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
            with self.store.transaction() as conn:
                repo.add_review(conn, review_id, now, who, account or "", verdicts)
            self.audit.record(
                who, "queue.review", review_id, {"account": account or "", "groups": dict(groups)}
            )
        counts = {g: groups.get(g, 0) for g in review.GROUPS}
        return Reviewed(review_id, account or "", tuple(verdicts), counts, len(found.problems))

    def decide(
        self,
        ids: Sequence[str],
        decision: str,
        note: str,
        who: str,
        *,
        review_id: str = "",
        approve: str = "",
    ) -> Decided:
        """Decide ids, each on the newest recorded review that covers it (on ``review_id``,
        when given), or, for ids in none, on ``approve`` (decided without review)."""
        _check(decision, note)
        if not ids:
            raise UsageError("name the message ids, or --accept-review REVIEW --group GROUP")
        wanted = tuple(dict.fromkeys(message_id(i) for i in ids))
        approval = approve.strip()
        grounds = ReviewedIdsOnly(self.store.conn).grounds(wanted, review_id, approval)
        base = repo.Decision("", decision, note, who, self.clock.now())
        rows = [_row(replace(base, msgid=i), c, approval) for i, c in grounds.items()]
        self._record(rows, who)
        return _decided(decision, note, rows)

    def accept(
        self, review_id: str, group: str, decision: str | None, note: str, who: str
    ) -> Decided:
        """A recorded review's group, decided as proposed (safe_to_remove: remove, do_not_touch:
        keep); needs_review has no proposal: ``--as`` says what the operator decided."""
        if group not in review.GROUPS:
            raise UsageError(f"--group is one of {', '.join(review.GROUPS)}")
        chosen = decision or PROPOSED.get(group)
        if chosen is None:
            raise UsageError("needs_review has no proposal: say what you decided with --as")
        if not repo.review_exists(self.store.conn, review_id):
            raise NotFoundError(f"no queue review {review_id} (csm queue review records one)")
        members = repo.review_group(self.store.conn, review_id, group)
        text = note.strip() or f"accepted review {review_id}, group {group}"
        now = self.clock.now()
        rows = [repo.Decision(m, chosen, text, who, now, review_id, a) for m, a in members]
        self._record(rows, who)
        return replace(_decided(chosen, text, rows), review=review_id)

    def _record(self, rows: Sequence[repo.Decision], who: str) -> None:
        with self.store.transaction() as conn:
            repo.decide(conn, rows)
        targets = [
            (r.msgid, {"note": r.note, "review": r.review, "approval": r.approval}) for r in rows
        ]
        if rows:
            self.audit.record_many(who, f"queue.decide.{rows[0].decision}", targets)


def _check(decision: str, note: str) -> None:
    if decision not in DECISIONS:
        raise UsageError(f"a decision is one of {', '.join(DECISIONS)}")
    if not note.strip():
        raise UsageError("a decision needs a note: --note TEXT (why)")


def _row(base: repo.Decision, covered: repo.Covered | None, approval: str) -> repo.Decision:
    """The decision on its grounds: the review that covers the message, or the approval."""
    if covered is None:
        return replace(base, approval=approval)
    return replace(base, review=covered.review, account=covered.account)


def _decided(decision: str, note: str, rows: Sequence[repo.Decision]) -> Decided:
    reviews = {r.msgid: r.review for r in rows if r.review}
    approved = [r for r in rows if not r.review]
    single = set(reviews.values())
    return Decided(
        decision,
        tuple(r.msgid for r in rows),
        note,
        review=single.pop() if len(single) == 1 and not approved else "",
        reviews=reviews,
        approval=approved[0].approval if approved else "",
        approved=tuple(r.msgid for r in approved),
    )
