"""``csm queue review`` and ``csm queue decide``: groups proposed with reasons, and the
operator's decision per message (remove, keep, release), which the actions require."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from csm.audit import AuditLog
from csm.clock import Clock
from csm.errors import NotFoundError, UsageError
from csm.identifiers import exim_message_id as message_id
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
    review: str = ""


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
            self.audit.record(who, "queue.review", review_id,
                              {"account": account or "", "groups": dict(groups)})  # fmt: skip
        counts = {g: groups.get(g, 0) for g in review.GROUPS}
        return Reviewed(review_id, account or "", tuple(verdicts), counts, len(found.problems))

    def decide(self, ids: Sequence[str], decision: str, note: str, who: str) -> Decided:
        if decision not in DECISIONS:
            raise UsageError(f"a decision is one of {', '.join(DECISIONS)}")
        if not note.strip():
            raise UsageError("a decision needs a note: --note TEXT (why)")
        if not ids:
            raise UsageError("name the message ids, or --accept-review REVIEW --group GROUP")
        wanted = tuple(dict.fromkeys(message_id(i) for i in ids))
        self._record([(i, "") for i in wanted], decision, note, who, "")
        return Decided(decision, wanted, note)

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
        self._record(members, chosen, text, who, review_id)
        return Decided(chosen, tuple(m for m, _ in members), text, review_id)

    def _record(self, members: Sequence[tuple[str, str]], decision: str, note: str, who: str,
                review_id: str) -> None:  # fmt: skip
        now = self.clock.now()
        rows = [repo.Decision(m, decision, note, who, now, review_id, a) for m, a in members]
        with self.store.transaction() as conn:
            repo.decide(conn, rows)
        if rows:
            targets = [(r.msgid, {"note": note, "review": review_id}) for r in rows]
            self.audit.record_many(who, f"queue.decide.{decision}", targets)
