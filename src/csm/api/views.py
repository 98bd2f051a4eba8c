"""What each web UI page shows, read from the services (in a worker thread): plain data for
the templates, which escape every string."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csm.api.chart import activity_chart
from csm.api.context import Unattended, parse, whole
from csm.api.v1 import IncidentQuery
from csm.app import App
from csm.errors import UsageError
from csm.health import status as health
from csm.incidents.model import Severity
from csm.incidents.service import ListQuery
from csm.mailqueue import repo as queue_repo
from csm.operations.mail import QueueReview

PAGE = 50
GROUP_ROWS = 500  # messages a queue page lists per group (a spam run queues 100,000s)
GROUPS = ("safe_to_remove", "needs_review", "do_not_touch")
MAX_OFFSET = 1_000_000_000
STATUSES = ("active", "open", "contained", "resolved", "dismissed", "all")


@dataclass
class Views:
    app: App

    def dashboard(self, daemon: dict[str, Any]) -> dict[str, Any]:
        report = health.collect(self.app.loaded, self.app.host, daemon)
        with self.app.incidents() as service:
            active = service.list(ListQuery(status="active", limit=20))
        with self.app.holds() as holds:
            held = holds.active()
        spool = daemon.get("spool", {})
        return {
            "report": report,
            "active": active,
            "queue_depth": spool.get("messages"),
            "holds": held,
        }

    def incidents(self, params: dict[str, str]) -> dict[str, Any]:
        """The API's filters (checked by its model), a page at a time, active by default."""
        paging = ("limit", "offset")
        filters = {
            k: params[k] for k in IncidentQuery.model_fields if k not in paging and params.get(k)
        }
        asked = parse(IncidentQuery, {"status": "active"} | filters)
        offset = whole(params.get("offset", "0"), MAX_OFFSET) or 0
        query = ListQuery(**asked.model_dump() | {"limit": PAGE, "offset": offset})
        with self.app.incidents() as service:
            page = service.list(query)
        return {"page": page, "filters": filters, "statuses": STATUSES, "severities": Severity}

    def incident(self, incident_id: str) -> dict[str, Any]:
        with self.app.incidents() as service:
            detail = service.show(incident_id)
        return {"detail": detail, "refused": None}

    def queue(self, account: str | None) -> dict[str, Any]:
        """The review's groups, each cut at GROUP_ROWS messages (the counts stay whole)."""
        reviewed = QueueReview(account, record=False).run(self.app, Unattended())
        rows: dict[str, list[Any]] = {group: [] for group in GROUPS}
        for verdict in reviewed.verdicts:
            shown = rows.setdefault(verdict.group, [])
            if len(shown) < GROUP_ROWS:
                shown.append(verdict)
        ids = [v.id for shown in rows.values() for v in shown]
        with self.app.incidents() as service:
            decided = queue_repo.decisions(service.store.conn, ids)
        return {"reviewed": reviewed, "rows": rows, "decided": decided, "account": account or ""}

    def message(self, msgid: str, *, body: bool, who: str) -> dict[str, Any]:
        with self.app.mail_queue() as service:
            shown = service.show(msgid, body=body, who=who)
        return {"shown": shown}

    def preview(self, action: str, ids: list[str]) -> dict[str, Any]:
        if action not in ("remove", "freeze", "restore", "thaw", "release"):
            raise UsageError("action: remove, freeze, restore, thaw or release")
        if not ids:
            raise UsageError("choose at least one message")
        with self.app.queue_work() as (_, _decisions, actions):
            return {"preview": actions.preview(action, ids)}

    def accounts(self) -> dict[str, Any]:
        return {"accounts": self.app.accounts().all()}

    def account(self, user: str) -> dict[str, Any]:
        with self.app.credentials() as service:
            detail = service.detail(user)
        return {"detail": detail}

    def activity(self, user: str) -> str:
        """The account's activity chart (SVG): its own request, so the page does not wait."""
        return activity_chart(self.app, self.app.accounts().get(user))

    def audit(self, offset: int) -> dict[str, Any]:
        with self.app.incidents() as service:
            entries, total = service.audit.page(PAGE, offset)
        return {"entries": entries, "total": total, "offset": offset, "page": PAGE}
