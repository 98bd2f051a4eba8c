"""Hostile requests: any query string, body, header or path gets a clear answer (never a 500,
never a change made by a caller who may not make it)."""

from __future__ import annotations

import os
import string
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Api

EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "30"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
GETS = [
    "/api/v1/incidents",
    "/api/v1/queue/summary",
    "/api/v1/queue/review",
    "/api/v1/queue/gate",
    "/api/v1/audit",
    "/incidents",
    "/audit",
]
POSTS = [
    "/api/v1/queue/actions",
    "/api/v1/queue/decisions",
    "/api/v1/queue/review",
    "/api/v1/incidents/inc_000000000001/status",
    "/api/v1/incidents/inc_000000000001/review",
]
text = st.text(string.printable + "äß\u202e\x00<>\"'&;", max_size=40)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@SETTINGS
@given(path=st.sampled_from(GETS), params=st.dictionaries(text, text, max_size=5))
def test_any_query_string_gets_a_clear_answer(api: Api, path: str, params: dict[str, str]) -> None:
    api.login("admin")
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())
    answer = api.client.get(f"{path}?{query}", headers=api.read)
    assert answer.status_code in (200, 400, 404), answer.text
    if path.startswith("/api/") and answer.status_code != 200:
        assert answer.json()["ok"] is False


@SETTINGS
@given(path=st.sampled_from(POSTS), body=json_values)
def test_any_json_body_gets_a_clear_answer(api: Api, path: str, body: object) -> None:
    answer = api.client.post(path, json=body, headers=api.admin)
    assert answer.status_code in (200, 400, 404, 409), answer.text
    assert isinstance(answer.json(), dict)


@SETTINGS
@given(path=st.sampled_from(POSTS), body=json_values)
def test_a_read_token_changes_nothing_whatever_it_sends(api: Api, path: str, body: object) -> None:
    before = api.client.get("/api/v1/audit", headers=api.read).json()["total"]
    answer = api.client.post(path, json=body, headers=api.read)
    assert answer.status_code == 403
    assert api.client.get("/api/v1/audit", headers=api.read).json()["total"] == before


@SETTINGS
@given(
    header=st.text(string.printable, max_size=200),
    cookie=st.text(string.ascii_letters + string.digits + "-_=", max_size=60),
)
def test_any_authorization_or_cookie_is_refused_cleanly(api: Api, header: str, cookie: str) -> None:
    api.server.ctx.gate.failures.allowed = 1_000_000  # this test is not about the rate limit
    headers = {"authorization": header.replace("\n", " ").replace("\r", " ")}
    api.client.cookies.set("csm_session", cookie)
    answer = api.client.get("/api/v1/status", headers=headers)
    assert answer.status_code in (401, 429)
    assert answer.json()["ok"] is False
