"""The web UI's pages, server-side: each renders for a session, sends its security headers,
escapes what came from logs and headers, and every form carries the CSRF token."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import parse_qs, urlsplit

import pytest

from csm.incidents.service import ListQuery
from csm.mailqueue import views
from tests.api.conftest import BASE, Api


def pages(api: Api) -> list[str]:
    with api.app.incidents() as service:
        incident = service.list(ListQuery(status="active", all=True)).items[0].id
    with api.app.mail_queue() as queue:
        message = queue.list(views.Filter()).messages[0].id
    return [
        "/",
        "/incidents",
        "/incidents?status=all&severity=CRITICAL&older_than=1h",
        f"/incidents/{incident}",
        "/queue",
        f"/queue/messages/{message}",
        "/accounts",
        f"/accounts/{api.host.accounts[0].user}",
        "/audit",
    ]


def test_every_page_renders_with_its_headers(api: Api) -> None:
    csrf = api.login("admin")
    for path in pages(api):
        page = api.client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        assert page.headers["x-frame-options"] == "DENY"
        assert "<script>" not in page.text  # only <script src=...>
        assert not re.search(r"\son[a-z]+=", page.text)  # no inline handlers
        assert ' style="' not in page.text
        for form in re.findall(r'<form method="post".*?</form>', page.text, re.S):
            assert f'name="csrf_token" value="{csrf}"' in form, (path, form)


def test_pages_send_a_stranger_to_the_login(api: Api) -> None:
    answer = api.client.get("/incidents", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/incidents"


def test_login_refuses_a_bad_token_and_keeps_next_local(api: Api) -> None:
    form = {"token": "wrong", "next": "/"}
    page = api.client.post("/login", data=form, headers={"origin": BASE})
    assert page.status_code == 401 and "not valid" in page.text
    good = {"token": api.host.api_tokens["read"], "next": "//evil.example/x"}
    answer = api.client.post("/login", data=good, headers={"origin": BASE}, follow_redirects=False)
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_read_session_sees_no_write_forms(api: Api) -> None:
    api.login("read")
    with api.app.incidents() as service:
        incident = service.list(ListQuery(status="active", all=True)).items[0].id
    page = api.client.get(f"/incidents/{incident}").text
    assert "Record review" not in page
    posted = api.client.post(
        f"/incidents/{incident}/review", data={"note": "x"}, headers={"origin": BASE}
    )
    assert posted.status_code == 403


@pytest.mark.parametrize(
    "hostile",
    ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'],
)
def test_a_review_note_is_shown_escaped(api: Api, hostile: str) -> None:
    csrf = api.login("admin")
    with api.app.incidents() as service:
        incident = service.list(ListQuery(status="active", all=True)).items[0].id
    posted = api.client.post(
        f"/incidents/{incident}/review",
        data={"note": hostile, "csrf_token": csrf},
        headers={"origin": BASE},
    )
    assert posted.status_code == 200  # redirected to the incident
    assert hostile not in posted.text
    assert "&lt;" in posted.text and ("&lt;script&gt;" in posted.text or "&#34;&gt;" in posted.text)


def test_the_guard_refusal_names_what_is_missing(api: Api) -> None:
    csrf = api.login("admin")
    with api.app.incidents() as service:
        found = service.list(ListQuery(status="active", kind="mailbox_takeover", all=True))
    incident = found.items[0].id
    page = api.client.post(
        f"/incidents/{incident}/status",
        data={"status": "resolved", "details": "", "csrf_token": csrf},
        headers={"origin": BASE},
    )
    assert page.status_code == 409
    assert 'id="refused"' in page.text
    assert "csm incidents review" in page.text or "csm backup" in page.text


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/\\evil.example", "https://evil.example", "/ok\r\nX: y"]
)
def test_login_never_sends_the_browser_elsewhere(api: Api, target: str) -> None:
    good = {"token": api.host.api_tokens["read"], "next": target}
    answer = api.client.post("/login", data=good, headers={"origin": BASE}, follow_redirects=False)
    assert answer.headers["location"] == "/"


@pytest.mark.parametrize("offset", ["\u00b2", "99999999999999999999999", "-1", "1e3"])
def test_odd_offsets_are_read_as_the_first_page(api: Api, offset: str) -> None:
    api.login("read")
    for path in ("/incidents", "/audit"):
        assert api.client.get(path, params={"offset": offset}).status_code == 200


def test_the_scan_button_meets_the_scan_condition(api: Api) -> None:
    csrf = api.login("admin")
    with api.app.incidents() as service:
        found = service.list(ListQuery(status="active", kind="mailbox_takeover", all=True))
    incident = found.items[0]
    answer = api.client.post(
        f"/incidents/{incident.id}/scan",
        data={"csrf_token": csrf},
        headers={"origin": BASE},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert f"scan+of+{incident.account}" in answer.headers["location"]
    with sqlite3.connect(api.app.state_dir / "csm.db") as conn:
        rows = conn.execute(
            "SELECT count(*) FROM scan_results WHERE account = ?", [incident.account]
        )
        assert rows.fetchone()[0] == 1


def test_a_big_queue_lists_a_bounded_page_per_group(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csm.api import views as page_views

    monkeypatch.setattr(page_views, "GROUP_ROWS", 5)
    api.login("read")
    page = api.client.get("/queue").text
    needs = page.split('id="group-needs_review"')[1].split('id="group-do_not_touch"')[0]
    assert needs.count('name="ids"') == 5
    assert "The first 5 of" in needs


def test_the_confirmation_shows_the_credentials_gate(api: Api) -> None:
    """A removal from an account whose credentials are not rotated asks for an approval:
    refused without one, done (and recorded) with one."""
    csrf = api.login("admin")
    same = {"origin": BASE}
    recorded = api.client.post("/api/v1/queue/review", json={}, headers=api.admin).json()
    held = next(
        v for v in recorded["verdicts"] if v["account"] and "not rotated" in " ".join(v["reasons"])
    )
    decided = api.client.post(
        "/api/v1/queue/decisions",
        json={"ids": [held["id"]], "decision": "remove", "note": "spam from the stolen box"},
        headers=api.admin,
    )
    assert decided.status_code == 200, decided.text
    form = {"csrf_token": csrf, "action": "remove", "ids": held["id"]}
    page = api.client.post("/queue/confirm", data=form, headers=same)
    assert page.status_code == 200
    assert f"The credentials of {held['account']} are not rotated" in page.text
    assert 'name="approve"' in page.text and "required" in page.text
    refused = api.client.post("/queue/act", data=form, headers=same)
    assert refused.status_code == 409
    assert api.client.get(f"/api/v1/queue/messages/{held['id']}", headers=api.read).is_success
    approved = {**form, "approve": "spam only; rotation under way"}
    done = api.client.post("/queue/act", data=approved, headers=same, follow_redirects=False)
    assert done.status_code == 303
    notice = parse_qs(urlsplit(done.headers["location"]).query)["done"][0]
    assert notice.startswith("remove: 1 done")
    assert (
        api.client.get(f"/api/v1/queue/messages/{held['id']}", headers=api.read).status_code == 404
    )
    audit = api.client.get("/api/v1/audit", headers=api.read).json()["items"]
    removal = next(e for e in audit if e["action"] == "queue.remove")
    assert removal["who"] == "api:drill-admin"


def test_the_activity_chart_is_an_svg_image_of_its_own(api: Api) -> None:
    api.login("read")
    user = api.host.accounts[0].user
    assert f'src="/accounts/{user}/activity.svg"' in api.client.get(f"/accounts/{user}").text
    chart = api.client.get(f"/accounts/{user}/activity.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.lstrip().startswith("<svg")
    assert api.client.get("/accounts/nosuchuser/activity.svg").status_code == 404


def test_the_dashboard_says_mail_is_stopped_and_how_to_undo_it(api: Api) -> None:
    api.login("read")
    assert "mail flows" in api.client.get("/").text
    with api.app.emergency() as emergency:
        emergency.stop("outbound", "spam <b>run</b>", "ops", apply=True)
    page = api.client.get("/").text
    assert 'id="mail-stopped"' in page and "outbound mail stopped" in page
    assert "csm mail resume outbound --apply" in page
    assert "spam &lt;b&gt;run&lt;/b&gt;" in page  # the reason, escaped
    status = api.client.get("/api/v1/status", headers=api.read).json()
    assert [s["direction"] for s in status["mail_stops"]] == ["outbound"]
