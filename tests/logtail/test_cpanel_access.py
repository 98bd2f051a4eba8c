"""cpsrvd's access log in every shape cPanel writes or has written: the documented one (auth
method, X-Forwarded-For, port), the port alone, a ``"host:port"`` field, none; Apache-style
times only with a cPanel port.  Anything else is not a line of it, never an exception."""

from __future__ import annotations

import calendar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm.logtail.formats import cpanel

T = calendar.timegm((2026, 12, 3, 6, 1, 2))
DOC = '"https://host.example:2083/" "Mozilla/5.0 (X11)" "s" "-" 2083'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (  # documented: MM/DD/YYYY, auth method, X-Forwarded-For, port
            f'203.0.113.10 - alice [12/03/2026:06:01:02 -0000] "GET /cpsess1/x HTTP/1.1" 200 15 {DOC}',
            ("203.0.113.10", "alice", "GET", 200, "cpanel", T),
        ),
        (  # the port alone after the agent
            '203.0.113.10 - alice [12/03/2026:06:01:02 -0000] "POST /execute/fileman/upload_files'
            ' HTTP/1.1" 401 0 "-" "-" 2083',
            ("203.0.113.10", "alice", "POST", 401, "cpanel", T),
        ),
        (  # a zone other than UTC
            '198.51.100.7 - info@acme.test [12/03/2026:09:01:02 +0300] "POST /login/?login_only=1'
            ' HTTP/1.1" 401 38 "-" "curl/8.0" "-" "-" 2096',
            ("198.51.100.7", "info@acme.test", "POST", 401, "webmail", T),
        ),
        (  # Apache-style time, a "host:port" field
            '10.0.0.5 - - [03/Dec/2026:06:01:02 +0000] "POST /login/?login_only=1 HTTP/1.1" 200 123'
            ' "-" "Mozilla/5.0" "host.example.com:2087"',
            ("10.0.0.5", "", "POST", 200, "whm", T),
        ),
        (  # older versions: nothing after the agent
            '2001:db8::7 - root [12/03/2026:06:01:02 -0000] "GET /json-api/version HTTP/1.1" 401 0'
            ' "-" "python-requests/2.31"',
            ("2001:db8::7", "root", "GET", 401, "", T),
        ),
        (  # the service check cPanel itself makes, with proxy in the ident field
            '127.0.0.1 proxy - [12/03/2026:06:01:02 -0000] "GET /.__cpanel__service__check__./'
            'serviceauth?sendkey=__HIDDEN__&version=1.2 HTTP/1.0" 200 0 "-" "-" "-" "-" 2086',
            ("127.0.0.1", "", "GET", 200, "whm", T),
        ),
    ],
)
def test_shapes_cpanel_writes(line: str, expected: tuple[object, ...]) -> None:
    found = cpanel.parse(line)
    assert found is not None
    assert (found.ip, found.user, found.method, found.status, found.service, found.time) == expected


@pytest.mark.parametrize(
    "line",
    [
        # a web server's access log: Apache time and no cPanel port
        '203.0.113.5 - - [14/Apr/2026:10:00:00 +0000] "POST /wp-login.php HTTP/1.1" 401 0 "-" "-"',
        # impossible dates and times
        '203.0.113.5 - a [13/03/2026:06:01:02 -0000] "GET / HTTP/1.1" 401 0 "-" "-" 2083',
        '203.0.113.5 - a [12/03/2026:25:01:02 -0000] "GET / HTTP/1.1" 401 0 "-" "-" 2083',
        '203.0.113.5 - a [12/03/2026:06:01:99 -0000] "GET / HTTP/1.1" 401 0 "-" "-" 2083',
        # not an address
        'host.example - a [12/03/2026:06:01:02 -0000] "GET / HTTP/1.1" 401 0 "-" "-" 2083',
        "2026-12-03 06:01:02 1abc23-000456-AB <= a@b.example",
        "",
    ],
)
def test_other_lines_are_not_read(line: str) -> None:
    assert cpanel.parse(line) is None


def test_a_login_accepted_and_a_failure() -> None:
    ok = cpanel.parse(
        '203.0.113.10 - alice [12/03/2026:06:01:02 -0000] "POST /login/?login_only=1 HTTP/1.1"'
        ' 200 90 "-" "-" "-" "-" 2083'
    )
    assert ok is not None and ok.logged_in and not ok.failed
    page = cpanel.parse(
        '203.0.113.10 - alice [12/03/2026:06:01:02 -0000] "GET /cpsess1/ HTTP/1.1" 200 9 "-" "-" 2083'
    )
    assert page is not None and not page.logged_in  # a session in use is not a new login


@given(st.text(max_size=400))
def test_any_text_is_a_request_or_nothing(line: str) -> None:
    found = cpanel.parse(line)
    assert found is None or (found.ip and 100 <= found.status <= 999)


@given(
    st.from_regex(r"[A-Za-z0-9@._%+-]{1,40}", fullmatch=True),
    st.from_regex(r"/[!-~]{0,80}", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_characters='"\n\r'), max_size=60),
    st.sampled_from(sorted(cpanel.SERVICES)),
)
def test_client_chosen_fields_do_not_change_what_is_read(
    user: str, path: str, agent: str, port: str
) -> None:
    line = (
        f'192.0.2.44 - {user} [12/03/2026:06:01:02 -0000] "POST {path} HTTP/1.1" 401 0'
        f' "-" "{agent}" "-" "-" {port}'
    )
    found = cpanel.parse(line)
    assert found is not None
    assert (found.ip, found.user if user != "-" else "-", found.path, found.status) == (
        "192.0.2.44",
        user,
        path,
        401,
    )
    assert found.service == cpanel.SERVICES[port] and found.time == T
