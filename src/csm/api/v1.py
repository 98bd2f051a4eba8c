"""``/api/v1``: the JSON API.  Each route authenticates, parses, calls one service (a read) or
one operation (a write, as the token's owner), and answers with the CLI's JSON: the same
encoder, the same list shape, the same error envelope and statuses (:mod:`csm.errors`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from csm import jsonio
from csm.api.context import Unattended, body, context, query
from csm.config.fields import Duration
from csm.errors import ForbiddenError, UsageError
from csm.health import status as health
from csm.incidents.model import Severity, Status
from csm.incidents.service import ListQuery, StatusFilter
from csm.mailqueue import views
from csm.operations import incidents as incident_ops
from csm.operations import mail as mail_ops

MAX_IDS = 10_000
Text = Annotated[str, StringConstraints(max_length=4096)]
Name = Annotated[str, StringConstraints(max_length=255)]


class Json(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return jsonio.dumps(content, pretty=False).encode()


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


class IncidentQuery(Strict):
    status: StatusFilter = "all"
    kind: Name | None = None
    severity: Annotated[Severity | None, BeforeValidator(_upper)] = None  # critical too
    account: Name | None = None
    older_than: Duration | None = None
    newer_than: Duration | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class StatusChange(Strict):
    status: Status
    details: Text = ""


class Note(Strict):
    note: str = Field(min_length=1, max_length=4096)


class SummaryQuery(Strict):
    by: views.By = "account"


class AccountQuery(Strict):
    account: Name | None = None


class MessageQuery(Strict):
    body: bool = False


class Decisions(Strict):
    """Ids with a decision, or a recorded review's group accepted."""

    ids: tuple[str, ...] = Field(default=(), max_length=MAX_IDS)
    decision: Literal["remove", "keep", "release"] | None = None
    note: Text = ""
    review_id: str = Field(default="", max_length=64)
    group: str = Field(default="", max_length=32)
    approve: Text = ""


class GateQuery(Strict):
    action: mail_ops.Action
    ids: str = Field(max_length=MAX_IDS * 33)  # comma-separated


class Action(Strict):
    action: mail_ops.Action
    ids: tuple[str, ...] = Field(min_length=1, max_length=MAX_IDS)
    approve: Text = ""


class Page(Strict):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000_000)


async def status(request: Request) -> Response:
    """The health snapshot (what `csm status --json` prints).
    ---
    summary: Health snapshot
    responses: {200: {description: the status report}}
    """
    ctx = context(request)
    ctx.gate.caller(request)
    daemon = ctx.daemon_status()
    return Json(await ctx.read(lambda app: health.collect(app.loaded, app.host, daemon)))


async def incidents(request: Request) -> Response:
    """Incidents, newest activity first, a page at a time.
    ---
    summary: List incidents
    parameters:
      - {name: status, in: query, schema: {type: string, enum: [all, active, open, contained, resolved, dismissed]}}
      - {name: kind, in: query, schema: {type: string}}
      - {name: severity, in: query, description: any case, schema: {type: string, enum: [WARNING, HIGH, CRITICAL]}}
      - {name: account, in: query, schema: {type: string}}
      - {name: older_than, in: query, description: "last activity at least this long ago (72h)", schema: {type: string}}
      - {name: newer_than, in: query, description: "last activity within this long (2h)", schema: {type: string}}
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
      - {name: offset, in: query, schema: {type: integer, minimum: 0}}
    responses: {200: {description: "{items, count, problems, total, offset, limit, status}"}}
    """
    ctx = context(request)
    ctx.gate.caller(request)
    asked = query(request, IncidentQuery)
    wanted = ListQuery(**asked.model_dump())

    def read(app: Any) -> Any:
        with app.incidents() as service:
            return service.list(wanted)

    page = await ctx.read(read)
    return Json(
        jsonio.listing(
            page.items, total=page.total, offset=page.offset, limit=page.limit, status=page.status
        )
    )


async def incident(request: Request) -> Response:
    """One incident: its findings, timeline, actions, and what closing it still needs.
    ---
    summary: Show an incident
    responses: {200: {description: "{incident, findings, timeline, actions, closing}"}, 404: {description: no such incident}}
    """
    ctx = context(request)
    ctx.gate.caller(request)
    wanted = request.path_params["id"]

    def read(app: Any) -> Any:
        with app.incidents() as service:
            return service.show(wanted)

    return Json(await ctx.read(read))


async def incident_status(request: Request) -> Response:
    """Change an incident's status: `resolved` passes the close guard, every change the backup rule.
    ---
    summary: Change an incident's status (admin)
    requestBody: {content: {application/json: {schema: {type: object, required: [status], properties: {status: {type: string}, details: {type: string}}}}}}
    responses: {200: {description: "{ok, id, from_status, to_status, changed}"}, 409: {description: refused, with what is missing}}
    """
    ctx = context(request)
    caller = ctx.gate.writer(request)
    asked = await body(request, StatusChange)
    change = incident_ops.SetStatus(request.path_params["id"], asked.status, asked.details)
    done = await ctx.perform(caller, change)
    return Json({"ok": True, **jsonio.to_jsonable(done)})


async def incident_review(request: Request) -> Response:
    """Record a review of the incident (the close guard's first condition).
    ---
    summary: Review an incident (admin)
    requestBody: {content: {application/json: {schema: {type: object, required: [note], properties: {note: {type: string}}}}}}
    responses: {200: {description: "{incident_id, account, note, who}"}}
    """
    ctx = context(request)
    caller = ctx.gate.writer(request)
    asked = await body(request, Note)
    review = incident_ops.ReviewIncident(request.path_params["id"], asked.note)
    return Json(await ctx.perform(caller, review))


async def queue_summary(request: Request) -> Response:
    """The queue counted by account, domain, sender, authenticated user or script.
    ---
    summary: Queue summary
    parameters: [{name: by, in: query, schema: {type: string, enum: [account, domain, sender, auth, script]}}]
    responses: {200: {description: what `csm queue summary --json` prints}}
    """
    ctx = context(request)
    ctx.gate.caller(request)
    by = query(request, SummaryQuery).by

    def read(app: Any) -> Any:
        with app.mail_queue() as service:
            return service.summary(by)

    return Json(await ctx.read(read))


async def queue_review(request: Request) -> Response:
    """GET: the queue grouped (safe_to_remove, needs_review, do_not_touch) with each message's
    reasons, not recorded.  POST (admin): the same, recorded as proposals to decide on.
    ---
    summary: Review the queue
    parameters: [{name: account, in: query, schema: {type: string}}]
    responses: {200: {description: "{id, account, verdicts, groups, problems}"}}
    """
    ctx = context(request)
    if request.method == "GET":
        ctx.gate.caller(request)
        account = query(request, AccountQuery).account
        review = mail_ops.QueueReview(account, record=False)
        return Json(await ctx.read(lambda app: review.run(app, Unattended())))
    caller = ctx.gate.writer(request)
    asked = await body(request, AccountQuery)
    return Json(await ctx.perform(caller, mail_ops.QueueReview(asked.account, record=True)))


async def queue_message(request: Request) -> Response:
    """A queued message's header file; its body only with `body=true` (admin; audited).
    ---
    summary: Show a queued message
    parameters: [{name: body, in: query, schema: {type: boolean}}]
    responses: {200: {description: "{message, header_file, body, body_truncated}"}}
    """
    ctx = context(request)
    caller = ctx.gate.caller(request)
    wanted, msgid = query(request, MessageQuery), request.path_params["id"]
    if wanted.body and not caller.identity.may_write:
        raise ForbiddenError("a message's body is shown to admin tokens only (it is audited)")

    def read(app: Any) -> Any:
        with app.mail_queue() as service:
            return service.show(msgid, body=wanted.body, who=caller.who)

    return Json(await ctx.read(read))


async def queue_decisions(request: Request) -> Response:
    """Record decisions: `ids` + `decision` + `note` (on the review covering each id), or a
    recorded review's group accepted (`review_id` + `group` [+ `decision`]).
    ---
    summary: Decide on reviewed messages (admin)
    requestBody: {content: {application/json: {schema: {type: object}}}}
    responses: {200: {description: "{decision, ids, note, review, reviews, approval, approved}"}}
    """
    ctx = context(request)
    caller = ctx.gate.writer(request)
    asked = await body(request, Decisions)
    return Json(await ctx.perform(caller, decision_of(asked)))


def decision_of(asked: Decisions) -> mail_ops.QueueAccept | mail_ops.QueueDecide:
    if asked.group:
        if asked.ids or asked.approve or not asked.review_id:
            raise UsageError("a group is accepted on its review_id (no ids, no approve)")
        return mail_ops.QueueAccept(asked.review_id, asked.group, asked.decision, asked.note)
    if not asked.ids or asked.decision is None:
        raise UsageError("give ids and a decision (remove, keep, release), or review_id + group")
    return mail_ops.QueueDecide(
        asked.ids, asked.decision, asked.note, asked.review_id, asked.approve
    )


async def queue_gate(request: Request) -> Response:
    """What an action on these ids would meet, nothing changed (the confirmation step):
    `refused` (no decision or review), else `waiting` accounts that need an approval.
    ---
    summary: Preview a queue action
    parameters:
      - {name: action, in: query, required: true, schema: {type: string, enum: [remove, freeze, restore, thaw, release]}}
      - {name: ids, in: query, required: true, description: comma-separated message ids, schema: {type: string}}
    responses: {200: {description: "{action, messages, gone, refused, fix, waiting}"}}
    """
    ctx = context(request)
    ctx.gate.caller(request)
    asked = query(request, GateQuery)
    ids = [i for i in asked.ids.split(",") if i]

    def read(app: Any) -> Any:
        with app.queue_work() as (_, _decisions, actions):
            return actions.preview(asked.action, ids)

    preview = await ctx.read(read)
    return Json({**jsonio.to_jsonable(preview), "needs_approval": preview.needs_approval})


async def queue_actions(request: Request) -> Response:
    """Remove (recoverably), freeze, restore, thaw or release reviewed, decided messages.
    ---
    summary: Act on queued messages (admin)
    requestBody: {content: {application/json: {schema: {type: object, required: [action, ids], properties: {action: {type: string}, ids: {type: array, items: {type: string}}, approve: {type: string}}}}}}
    responses: {200: {description: "{action, done, gone, failed, approval}"}, 409: {description: refused by the gate}}
    """
    ctx = context(request)
    caller = ctx.gate.writer(request)
    asked = await body(request, Action)
    operation = mail_ops.QueueAction(asked.action, asked.ids, asked.approve)
    return Json(await ctx.perform(caller, operation))


async def accounts(request: Request) -> Response:
    """Every hosting account with its domains, mailboxes and sites.
    ---
    summary: List accounts
    responses: {200: {description: "{items, count, problems}"}}
    """
    ctx = context(request)
    ctx.gate.caller(request)
    found = await ctx.read(lambda app: app.accounts().all())
    return Json(jsonio.listing(found))


async def account(request: Request) -> Response:
    """One account: inventory, active incidents, the credential plan and its status.
    ---
    summary: Show an account
    responses: {200: {description: what `csm accounts show --json` prints}, 404: {description: no such account}}
    """
    ctx = context(request)
    ctx.gate.caller(request)
    user = request.path_params["user"]

    def read(app: Any) -> Any:
        with app.credentials() as service:
            return service.detail(user)

    return Json(await ctx.read(read))


async def audit(request: Request) -> Response:
    """The audit log, newest first: who changed what, when and why.
    ---
    summary: Audit log
    parameters:
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
      - {name: offset, in: query, schema: {type: integer, minimum: 0}}
    responses: {200: {description: "{items: [{when, who, action, target, details}], count, problems, total, offset, limit}"}}
    """
    ctx = context(request)
    ctx.gate.caller(request)
    page = query(request, Page)

    def read(app: Any) -> Any:
        with app.incidents() as service:
            return service.audit.page(page.limit, page.offset)

    found, total = await ctx.read(read)
    items = [entry.as_dict() for entry in found]
    return Json(jsonio.listing(items, total=total, offset=page.offset, limit=page.limit))


async def findings_stream(request: Request) -> Response:
    """Findings as the daemon records them (server-sent events: `finding`, then `incidents`
    naming the incidents touched; `lagged` when events were dropped); a comment every 15 s.
    ---
    summary: Stream new findings
    responses: {200: {description: text/event-stream}}
    """
    ctx = context(request)
    ctx.gate.caller(request)
    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(ctx.feed.events(), media_type="text/event-stream", headers=headers)


ROUTES: list[BaseRoute] = [
    Route("/api/v1/status", status),
    Route("/api/v1/incidents", incidents),
    Route("/api/v1/incidents/{id}", incident),
    Route("/api/v1/incidents/{id}/status", incident_status, methods=["POST"]),
    Route("/api/v1/incidents/{id}/review", incident_review, methods=["POST"]),
    Route("/api/v1/queue/summary", queue_summary),
    Route("/api/v1/queue/review", queue_review, methods=["GET", "POST"]),
    Route("/api/v1/queue/messages/{id}", queue_message),
    Route("/api/v1/queue/decisions", queue_decisions, methods=["POST"]),
    Route("/api/v1/queue/gate", queue_gate),
    Route("/api/v1/queue/actions", queue_actions, methods=["POST"]),
    Route("/api/v1/accounts", accounts),
    Route("/api/v1/accounts/{user}", account),
    Route("/api/v1/audit", audit),
    Route("/api/v1/findings/stream", findings_stream),
]
