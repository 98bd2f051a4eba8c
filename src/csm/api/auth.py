"""Who is asking, and whether they may: bearer tokens, web UI sessions, CSRF and Origin checks,
and the per-address limit on failed logins.

A request is authenticated by ``Authorization: Bearer <token>`` or by the ``csm_session``
cookie a login gave (HttpOnly, SameSite=Strict, Secure under TLS).  A write needs an ``admin``
token; a request that carries an ``Origin`` must come from this server's own origin; a write
made with the cookie must also carry the session's CSRF token (the ``X-CSRF-Token`` header or
the ``csrf_token`` form field) and an ``Origin`` (or ``Referer``) of this server.  Bad tokens and
failed logins count against the client's address: past ``api.login_failures`` in a minute,
every authentication from it is answered 429 until the minute has passed."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from csm.api.tokens import Identity, Tokens
from csm.errors import ForbiddenError, RateLimitedError, UnauthorizedError

SESSION_COOKIE = "csm_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
MAX_SESSIONS = 1000  # the oldest login is forgotten first
MAX_ADDRESSES = 10_000  # addresses whose failures are remembered
WINDOW = 60.0  # seconds over which failed logins count

Now = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    identity: Identity
    csrf: str
    expires: float  # on the monotonic clock


class Sessions:
    """Web UI logins, in the daemon's memory: a restart logs everyone out."""

    def __init__(self, ttl: float, now: Now = time.monotonic) -> None:
        self.ttl, self.now = ttl, now
        self._open: OrderedDict[str, Session] = OrderedDict()

    def open(self, identity: Identity) -> Session:
        session = Session(
            secrets.token_urlsafe(32), identity, secrets.token_urlsafe(32), self.now() + self.ttl
        )
        self._open[session.id] = session
        while len(self._open) > MAX_SESSIONS:
            self._open.popitem(last=False)
        return session

    def get(self, session_id: str) -> Session | None:
        session = self._open.get(session_id)
        if session is not None and session.expires <= self.now():
            self.close(session_id)
            return None
        return session

    def close(self, session_id: str) -> None:
        self._open.pop(session_id, None)


class FailedLogins:
    """Failed logins and bad tokens per client address, over a sliding minute."""

    def __init__(self, allowed: int, now: Now = time.monotonic) -> None:
        self.allowed, self.now = allowed, now
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, address: str) -> None:
        """Raise :class:`RateLimitedError` while ``address`` is over the limit."""
        times = self._recent(address)
        if len(times) >= self.allowed:
            wait = max(1, int(times[0] + WINDOW - self.now()) + 1)
            raise RateLimitedError(
                f"too many failed logins from {address}; try again in {wait} s",
                details={"retry_after": wait},
            )

    def failed(self, address: str) -> None:
        self._recent(address).append(self.now())
        self._seen.move_to_end(address)
        while len(self._seen) > MAX_ADDRESSES:
            self._seen.popitem(last=False)

    def _recent(self, address: str) -> deque[float]:
        times = self._seen.setdefault(address, deque())
        while times and times[0] <= self.now() - WINDOW:
            times.popleft()
        return times


@dataclass(frozen=True, slots=True)
class Caller:
    identity: Identity
    session: Session | None  # None: a bearer token

    @property
    def who(self) -> str:
        """The name the audit log records for this caller's writes."""
        return f"api:{self.identity.name}"


class Gatekeeper:
    def __init__(self, tokens: Callable[[], Tokens], sessions: Sessions, failures: FailedLogins):
        self.tokens, self.sessions, self.failures = tokens, sessions, failures

    def caller(self, request: HTTPConnection) -> Caller:
        """The authenticated caller, or :class:`UnauthorizedError` / :class:`RateLimitedError`."""
        check_origin(request, required=False)  # a foreign page's request, whatever it carries
        address = client_address(request)
        self.failures.check(address)
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, presented = header.partition(" ")
            identity = self.tokens().authenticate(presented.strip())
            if scheme.lower() != "bearer" or identity is None:
                self.failures.failed(address)
                raise UnauthorizedError("the bearer token is not valid")
            return Caller(identity, None)
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is None or not self._still_valid(session.identity):
            raise UnauthorizedError("log in first: a bearer token or a web UI session is needed")
        return Caller(session.identity, session)

    def writer(self, request: HTTPConnection, csrf: str | None = None) -> Caller:
        """A caller who may change state with this request (``csrf``: a form's field)."""
        caller = self.caller(request)
        if not caller.identity.may_write:
            raise ForbiddenError(f"token {caller.identity.name!r} has the read scope only")
        self.check_csrf(caller, request, csrf)
        return caller

    def check_csrf(self, caller: Caller, request: HTTPConnection, csrf: str | None) -> None:
        """A session's write must carry its CSRF token (header or form field) and Origin."""
        if caller.session is None:
            return
        check_origin(request, required=True)
        presented = request.headers.get(CSRF_HEADER) or csrf or ""
        if not hmac.compare_digest(presented.encode(), caller.session.csrf.encode()):
            raise ForbiddenError("the CSRF token is missing or wrong; reload the page")

    def login(self, request: HTTPConnection, token: str) -> Session:
        """A new session for ``token``'s owner; a failure counts against the address."""
        address = client_address(request)
        self.failures.check(address)
        check_origin(request, required=True)
        identity = self.tokens().authenticate(token.strip())
        if identity is None:
            self.failures.failed(address)
            raise UnauthorizedError("that token is not valid")
        return self.sessions.open(identity)

    def _still_valid(self, identity: Identity) -> bool:
        """A session ends when its token leaves the configuration (or changes scope)."""
        return any(
            k.name == identity.name and k.scope == identity.scope for k in self.tokens().known
        )


def check_origin(request: HTTPConnection, *, required: bool) -> None:
    """A request that says where it comes from must come from here; a cookie's must say."""
    origin = request.headers.get("origin") or _referer_origin(request.headers.get("referer"))
    if origin is None:
        if required:
            raise ForbiddenError("a browser write must carry this server's Origin")
        return
    if origin != own_origin(request):
        raise ForbiddenError(f"Origin {origin!r} is not this server")


def own_origin(request: HTTPConnection) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def client_address(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


def _referer_origin(referer: str | None) -> str | None:
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
