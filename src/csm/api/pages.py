"""The web UI: server-rendered pages (Jinja2, autoescaped) over the same services and
operations as the JSON API.  Every form posts the session's CSRF token; every write goes
through the gatekeeper and one operation, then redirects (so a reload never repeats it)."""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from csm.api.auth import CSRF_FIELD, SESSION_COOKIE, Caller
from csm.api.context import MAX_BODY, context, whole
from csm.api.views import MAX_OFFSET, Views
from csm.clock import isoformat
from csm.errors import CsmError, ForbiddenError, UsageError
from csm.incidents.model import Status
from csm.operations import incidents as incident_ops
from csm.operations import mail as mail_ops
from csm.operations import scans as scan_ops

HERE = Path(__file__).parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
MAX_FIELD = 4096
MAX_IDS = 1000  # messages one form acts on
LOCAL_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@/?%-]{0,500}")


def _when(value: datetime | None) -> str:
    return isoformat(value).replace("T", " ") if value else "-"


TEMPLATES.filters["when"] = _when


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/metrics"))


def render(
    request: Request, name: str, caller: Caller | None, status: int = 200, **data: Any
) -> HTMLResponse:
    page = TEMPLATES.get_template(name).render(
        caller=caller,
        csrf=caller.session.csrf if caller and caller.session else "",
        path=request.url.path,
        **data,
    )
    return HTMLResponse(page, status)


async def error_page(request: Request, exc: CsmError) -> Response:
    if exc.kind.http_status == 401:
        target = request.url.path if request.method == "GET" else "/"
        return RedirectResponse(f"/login?next={quote(target)}", 303)
    return render(request, "error.html", None, exc.kind.http_status, error=exc)


async def form(request: Request) -> FormData:
    """The posted form (at most 64 KiB, no files)."""
    declared = whole(request.headers.get("content-length", ""))
    if declared is None or declared > MAX_BODY:
        raise UsageError("the form is too large")
    return await request.form(max_files=0, max_fields=MAX_IDS + 16, max_part_size=MAX_FIELD)


def field(data: FormData, name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise UsageError(f"{name}: not a text field of at most {MAX_FIELD} characters")
    return value


# -- login ----------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    ctx = context(request)
    nxt = _local(request.query_params.get("next", "/"))
    if request.method == "GET":
        return render(request, "login.html", None, next=nxt, error="")
    data = await form(request)
    try:
        session = ctx.gate.login(request, field(data, "token"))
    except CsmError as exc:
        status = exc.kind.http_status
        return render(request, "login.html", None, status, next=nxt, error=exc.message)
    response = RedirectResponse(_local(field(data, "next") or "/"), 303)
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=int(ctx.gate.sessions.ttl),
        httponly=True,
        samesite="strict",
        secure=ctx.secure,
        path="/",
    )
    return response


async def logout(request: Request) -> Response:
    ctx = context(request)
    data = await form(request)
    caller = ctx.gate.caller(request)
    ctx.gate.check_csrf(caller, request, field(data, CSRF_FIELD))
    if caller.session is not None:
        ctx.gate.sessions.close(caller.session.id)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- pages ----------------------------------------------------------------------------------


async def page(
    request: Request, template: str, view: Callable[[Views], dict[str, Any]]
) -> Response:
    """A page for a logged-in caller: ``view`` read in a worker thread, then rendered."""
    ctx = context(request)
    caller = ctx.gate.caller(request)
    shown = await ctx.read(lambda app: view(Views(app)))
    return render(request, template, caller, **shown, notice=_notice(request))


async def dashboard(request: Request) -> Response:
    daemon = context(request).daemon_status()  # on the daemon's loop, which changes it
    return await page(request, "dashboard.html", lambda views: views.dashboard(daemon))


async def incidents(request: Request) -> Response:
    params = dict(request.query_params)
    return await page(request, "incidents.html", lambda views: views.incidents(params))


async def incident(request: Request) -> Response:
    wanted = request.path_params["id"]
    return await page(request, "incident.html", lambda views: views.incident(wanted))


async def incident_review(request: Request) -> Response:
    ctx, data = context(request), await form(request)
    caller = ctx.gate.writer(request, field(data, CSRF_FIELD))
    incident_id = request.path_params["id"]
    await ctx.perform(caller, incident_ops.ReviewIncident(incident_id, field(data, "note")))
    return _back(f"/incidents/{quote(incident_id)}", "review recorded")


async def incident_status(request: Request) -> Response:
    ctx, data = context(request), await form(request)
    caller = ctx.gate.writer(request, field(data, CSRF_FIELD))
    incident_id = request.path_params["id"]
    try:
        to = Status(field(data, "status"))
    except ValueError:
        raise UsageError("status: open, contained, resolved or dismissed") from None
    change = incident_ops.SetStatus(incident_id, to, field(data, "details"))
    try:
        done = await ctx.perform(caller, change)
    except CsmError as exc:  # the guard's refusal is shown on the page, with what is missing
        shown = await ctx.read(lambda app: Views(app).incident(incident_id))
        status = exc.kind.http_status
        shown["refused"] = exc
        return render(request, "incident.html", caller, status, **shown)
    return _back(f"/incidents/{quote(incident_id)}", f"status {done.to_status}")


async def incident_scan(request: Request) -> Response:
    """The close guard's scan condition, met from the page: a scan of the incident's account."""
    ctx, data = context(request), await form(request)
    caller = ctx.gate.writer(request, field(data, CSRF_FIELD))
    incident_id = request.path_params["id"]
    shown = await ctx.read(lambda app: Views(app).incident(incident_id))
    account = shown["detail"].incident.account
    if not account:
        raise UsageError("this incident names no hosting account to scan")
    (done,) = await ctx.perform(caller, scan_ops.ScanAccounts((account,)))
    verdict = "clean" if done.clean else f"{len(done.findings)} finding(s)"
    if not done.complete:
        verdict += ", incomplete: " + "; ".join(done.errors)[:120]
    return _back(f"/incidents/{quote(incident_id)}", f"scan of {account}: {verdict}")


async def queue(request: Request) -> Response:
    account = request.query_params.get("account") or None
    return await page(request, "queue.html", lambda views: views.queue(account))


async def queue_message(request: Request) -> Response:
    ctx = context(request)
    caller = ctx.gate.caller(request)
    msgid, body = request.path_params["id"], request.query_params.get("body") == "1"
    if body and not caller.identity.may_write:
        raise ForbiddenError("a message's body is shown to admin tokens only (it is audited)")
    shown = await ctx.read(lambda app: Views(app).message(msgid, body=body, who=caller.who))
    return render(request, "message.html", caller, **shown)


async def queue_review(request: Request) -> Response:
    ctx, data = context(request), await form(request)
    caller = ctx.gate.writer(request, field(data, CSRF_FIELD))
    account = field(data, "account") or None
    reviewed = await ctx.perform(caller, mail_ops.QueueReview(account, record=True))
    return _back("/queue" + (f"?account={quote(account)}" if account else ""), _counts(reviewed))


async def queue_decide(request: Request) -> Response:
    ctx, data = context(request), await form(request)
    caller = ctx.gate.writer(request, field(data, CSRF_FIELD))
    ids = _ids(data)
    decision, note = field(data, "decision"), field(data, "note")
    if field(data, "group"):
        accept = mail_ops.QueueAccept(field(data, "review_id"), field(data, "group"), None, note)
        done = await ctx.perform(caller, accept)
    elif not ids:
        raise UsageError("choose at least one message")
    else:
        done = await ctx.perform(caller, mail_ops.QueueDecide(ids, decision, note))
    return _back("/queue", f"{done.decision}: {len(done.ids)} message(s) recorded")


async def queue_confirm(request: Request) -> Response:
    """The confirmation step: what the action would meet, before anything changes."""
    ctx, data = context(request), await form(request)
    caller = ctx.gate.caller(request)
    ctx.gate.check_csrf(caller, request, field(data, CSRF_FIELD))
    action = field(data, "action")
    ids = list(_ids(data))
    shown = await ctx.read(lambda app: Views(app).preview(action, ids))
    return render(request, "confirm.html", caller, **shown)


async def queue_act(request: Request) -> Response:
    ctx, data = context(request), await form(request)
    caller = ctx.gate.writer(request, field(data, CSRF_FIELD))
    ids = _ids(data)
    if not ids:
        raise UsageError("choose at least one message")
    action = _action(field(data, "action"))
    done = await ctx.perform(caller, mail_ops.QueueAction(action, ids, field(data, "approve")))
    failed = f", {len(done.failed)} failed" if done.failed else ""
    return _back("/queue", f"{action}: {len(done.done)} done, {len(done.gone)} gone{failed}")


async def accounts(request: Request) -> Response:
    return await page(request, "accounts.html", lambda views: views.accounts())


async def account(request: Request) -> Response:
    user = request.path_params["user"]
    return await page(request, "account.html", lambda views: views.account(user))


async def account_activity(request: Request) -> Response:
    """The account page's chart, an image of its own (drawn on the server; no script)."""
    ctx = context(request)
    ctx.gate.caller(request)
    user = request.path_params["user"]
    drawn = await ctx.read(lambda app: Views(app).activity(user))
    return Response(drawn, media_type="image/svg+xml")


async def audit(request: Request) -> Response:
    start = whole(request.query_params.get("offset", "0"), MAX_OFFSET) or 0
    return await page(request, "audit.html", lambda views: views.audit(start))


def _ids(data: FormData) -> tuple[str, ...]:
    ids = tuple(v for v in data.getlist("ids") if isinstance(v, str) and v)
    if len(ids) > MAX_IDS:
        raise UsageError(f"at most {MAX_IDS} messages at once")
    return ids


def _action(value: str) -> mail_ops.Action:
    if value not in typing.get_args(mail_ops.Action):
        raise UsageError("action: remove, freeze, restore, thaw or release")
    return cast(mail_ops.Action, value)


def _local(target: str) -> str:
    """Only a path on this server: never ``//elsewhere``, ``/\\elsewhere`` (browsers read a
    backslash as a slash) or ``https://…``, nor anything with spaces or control characters."""
    if LOCAL_PATH.fullmatch(target) and not target.startswith("//"):
        return target
    return "/"


def _back(path: str, notice: str) -> Response:
    glue = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{glue}{urlencode({'done': notice})}", 303)


def _notice(request: Request) -> str:
    return request.query_params.get("done", "")[:200]


def _counts(reviewed: Any) -> str:
    groups: Mapping[str, int] = reviewed.groups
    return f"review {reviewed.id}: " + ", ".join(f"{g} {n}" for g, n in groups.items())


ROUTES: list[BaseRoute] = [
    Route("/login", login, methods=["GET", "POST"], include_in_schema=False),
    Route("/logout", logout, methods=["POST"], include_in_schema=False),
    Route("/", dashboard, include_in_schema=False),
    Route("/incidents", incidents, include_in_schema=False),
    Route("/incidents/{id}", incident, include_in_schema=False),
    Route("/incidents/{id}/review", incident_review, methods=["POST"], include_in_schema=False),
    Route("/incidents/{id}/status", incident_status, methods=["POST"], include_in_schema=False),
    Route("/incidents/{id}/scan", incident_scan, methods=["POST"], include_in_schema=False),
    Route("/queue", queue, include_in_schema=False),
    Route("/queue/messages/{id}", queue_message, include_in_schema=False),
    Route("/queue/review", queue_review, methods=["POST"], include_in_schema=False),
    Route("/queue/decide", queue_decide, methods=["POST"], include_in_schema=False),
    Route("/queue/confirm", queue_confirm, methods=["POST"], include_in_schema=False),
    Route("/queue/act", queue_act, methods=["POST"], include_in_schema=False),
    Route("/accounts", accounts, include_in_schema=False),
    Route("/accounts/{user}", account, include_in_schema=False),
    Route("/accounts/{user}/activity.svg", account_activity, include_in_schema=False),
    Route("/audit", audit, include_in_schema=False),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]
