"""Every endpoint x every caller: no token, a read token, an admin token, a session with a
bad CSRF token, a foreign Origin; and the one error envelope each time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from csm.incidents.service import ListQuery
from csm.mailqueue import views
from tests.api.conftest import Api


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None
    ok: tuple[int, ...] = (200,)  # what an admin may get (a write can be refused: 409)

    @property
    def writes(self) -> bool:
        return self.method == "POST"

    def send(self, api: Api, headers: dict[str, str]) -> Any:
        if self.method == "GET":
            return api.client.get(self.path, headers=headers)
        return api.client.post(self.path, json=self.body or {}, headers=headers)


def calls(api: Api) -> list[Call]:
    with api.app.incidents() as service:
        incident = service.list(ListQuery(status="active", all=True)).items[0].id
    with api.app.mail_queue() as queue:
        message = queue.list(views.Filter()).messages[0].id
    return [
        Call("GET", "/api/v1/status"),
        Call("GET", "/api/v1/incidents?status=active&severity=CRITICAL&newer_than=30d"),
        Call("GET", f"/api/v1/incidents/{incident}"),
        Call("POST", f"/api/v1/incidents/{incident}/status", {"status": "contained"}, (200, 409)),
        Call("POST", f"/api/v1/incidents/{incident}/review", {"note": "checked the logs"}),
        Call("GET", "/api/v1/queue/summary?by=auth"),
        Call("GET", "/api/v1/queue/review"),
        Call("POST", "/api/v1/queue/review", {}),
        Call("GET", f"/api/v1/queue/messages/{message}"),
        Call(
            "POST",
            "/api/v1/queue/decisions",
            {"ids": [message], "decision": "keep", "note": "looked at it"},
            (200, 409),
        ),
        Call("GET", f"/api/v1/queue/gate?action=remove&ids={message}"),
        Call("POST", "/api/v1/queue/actions", {"action": "freeze", "ids": [message]}),
        Call("GET", "/api/v1/accounts"),
        Call("GET", f"/api/v1/accounts/{api.host.accounts[0].user}"),
        Call("GET", "/api/v1/audit?limit=5"),
        Call("GET", "/metrics"),
    ]


def envelope(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["ok"] is False
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]


def test_no_credentials_is_401_everywhere(api: Api) -> None:
    for call in calls(api):
        answer = call.send(api, {})
        envelope(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_read_token_reads_and_may_not_write(api: Api) -> None:
    for call in calls(api):
        answer = call.send(api, api.read)
        if call.writes:
            envelope(answer, 403, "forbidden")
        else:
            assert answer.status_code == 200, (call, answer.text)


def test_admin_token_does_everything(api: Api) -> None:
    for call in calls(api):
        answer = call.send(api, api.admin)
        assert answer.status_code in call.ok, (call, answer.text)
        if answer.status_code == 409:
            envelope(answer, 409, "refused")
            assert answer.json()["fix"]


def test_session_write_needs_its_csrf_token(api: Api) -> None:
    csrf = api.login("admin")
    same = {"origin": "http://testserver"}
    for call in calls(api):
        if not call.writes:
            assert call.send(api, {}).status_code == 200, call
            continue
        envelope(call.send(api, same), 403, "forbidden")  # none
        envelope(call.send(api, {**same, "x-csrf-token": "forged"}), 403, "forbidden")
        envelope(call.send(api, {"x-csrf-token": csrf}), 403, "forbidden")  # no Origin
        answer = call.send(api, {**same, "x-csrf-token": csrf})
        assert answer.status_code in call.ok, (call, answer.text)


def test_foreign_origin_is_refused_whatever_the_token(api: Api) -> None:
    for call in calls(api):
        answer = call.send(api, {**api.admin, "origin": "https://evil.example"})
        envelope(answer, 403, "forbidden")


def test_writes_are_audited_with_the_token_name(api: Api) -> None:
    call = calls(api)[4]  # the review
    assert call.send(api, api.admin).status_code == 200
    entries = api.client.get("/api/v1/audit", headers=api.read).json()["items"]
    assert entries[0]["action"] == "incident.review"
    assert entries[0]["who"] == "api:drill-admin"


def test_failed_logins_are_limited_per_address(api: Api) -> None:
    bad = {"authorization": "Bearer not-a-token-of-ours"}
    for _ in range(5):
        envelope(api.client.get("/api/v1/status", headers=bad), 401, "unauthorized")
    limited = api.client.get("/api/v1/status", headers=api.admin)  # even a good one now
    envelope(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    form = {"token": "wrong", "next": "/"}
    page = api.client.post("/login", data=form, headers={"origin": "http://testserver"})
    assert page.status_code == 429


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/nothing-here", 404, "not_found"),
        ("/api/v1/incidents?limit=0", 400, "usage"),
        ("/api/v1/incidents?unknown=1", 400, "usage"),
        ("/api/v1/incidents?older_than=yesterday", 400, "usage"),
        ("/api/v1/incidents/inc_000000000000", 404, "not_found"),
        ("/api/v1/accounts/nosuchuser", 404, "not_found"),
    ],
)
def test_errors_have_the_cli_envelope(api: Api, path: str, status: int, code: str) -> None:
    envelope(api.client.get(path, headers=api.read), status, code)


def test_bodies_are_checked(api: Api) -> None:
    path = "/api/v1/queue/actions"
    for body in (b"not json", b'{"action": "explode", "ids": ["x"]}', b"[" * 70_000):
        answer = api.client.post(path, content=body, headers=api.admin)
        envelope(answer, 400, "usage")


def test_message_body_is_for_admins_and_audited(api: Api) -> None:
    with api.app.mail_queue() as queue:
        message = queue.list(views.Filter()).messages[0].id
    path = f"/api/v1/queue/messages/{message}?body=true"
    envelope(api.client.get(path, headers=api.read), 403, "forbidden")
    shown = api.client.get(path, headers=api.admin)
    assert shown.status_code == 200
    assert shown.json()["body"] is not None
    audit = api.client.get("/api/v1/audit", headers=api.read).json()["items"]
    assert any(e["target"] == message and e["who"] == "api:drill-admin" for e in audit)


def test_severity_is_read_in_any_case(api: Api) -> None:
    upper = api.client.get("/api/v1/incidents?severity=CRITICAL", headers=api.read).json()
    lower = api.client.get("/api/v1/incidents?severity=critical", headers=api.read).json()
    assert upper["total"] > 0
    assert [i["id"] for i in lower["items"]] == [i["id"] for i in upper["items"]]
