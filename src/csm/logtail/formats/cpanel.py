"""cPanel's own access log (``/usr/local/cpanel/logs/access_log``, written by cpsrvd for
cPanel, WHM and Webmail): the requests that authenticated, or failed to.

cPanel documents the line as ``IP ident user [MM/DD/YYYY:HH:MM:SS -ZZZZ] "request" status
size "referrer" "agent" "auth" "x-forwarded-for" port``; older versions end after the agent,
or carry only the port, or a ``"host:port"`` field.  A line with an Apache-style time
(``11/Apr/2026``) is read only when it ends in one of cpsrvd's ports, so a web server's
access log is never taken for cPanel's.  Everything here comes from clients: any other
shape is not a line of this log (``None``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from csm.logtail.formats.address import ip_text
from csm.logtail.formats.stamps import MONTHS, minute, zone_offset

SERVICES: Final = {
    "2082": "cpanel",
    "2083": "cpanel",
    "2086": "whm",
    "2087": "whm",
    "2095": "webmail",
    "2096": "webmail",
}
FAILED: Final = 401  # cpsrvd's answer to a wrong password, token or session
LOGIN_OK: Final = frozenset({200, 301, 302, 307})
_LINE: Final = re.compile(
    r"(?P<ip>[0-9A-Fa-f.:]{2,45}) \S{1,64} (?P<user>\S{1,255}) "
    r"\[(?P<first>\d\d)/(?P<middle>\d\d|[A-Z][a-z]{2})/(?P<year>\d{4}):"
    r"(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d) (?P<zone>[+-]\d{4})\] "
    r'"(?P<method>[A-Z]{1,16}) (?P<path>\S{1,8192})(?: [^"]{0,64})?" (?P<status>\d{3}) \S{1,20}'
    r"(?P<rest>.{0,16384})"
)
_PORT: Final = re.compile(r'(?:"[^"]*:|\s)(?P<port>20(?:82|83|86|87|95|96))"?\s*$')


@dataclass(frozen=True, slots=True)
class Request:
    time: int  # epoch seconds, UTC
    ip: str
    user: str  # the account, reseller or mailbox; "" when the line has none
    method: str
    path: str
    status: int
    service: str  # "cpanel", "whm", "webmail", or "" when the line names no port

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    @property
    def logged_in(self) -> bool:
        """A login form accepted (``POST /login/…`` answered with the session)."""
        return (
            self.method == "POST"
            and self.path.startswith("/login/")
            and self.status in LOGIN_OK
            and bool(self.user)
        )


def parse(line: str) -> Request | None:
    found = _LINE.fullmatch(line.rstrip("\r\n"))
    ip = ip_text(found["ip"]) if found is not None else ""
    if found is None or not ip:
        return None
    port = _PORT.search(found["rest"])
    apache = not found["middle"].isdigit()  # DD/Mon/YYYY, else cPanel's MM/DD/YYYY
    if apache and port is None:
        return None  # a web server's log, not cpsrvd's
    try:
        time = _time(found, apache)
    except (ValueError, KeyError):
        return None
    user = found["user"]
    return Request(
        time,
        ip,
        "" if user == "-" else user,
        found["method"],
        found["path"],
        int(found["status"]),
        SERVICES[port["port"]] if port is not None else "",
    )


def _time(found: re.Match[str], apache: bool) -> int:
    if apache:
        day, month = int(found["first"]), MONTHS[found["middle"]]
    else:
        month, day = int(found["first"]), int(found["middle"])
    second = int(found["second"])
    if second > 60:
        raise ValueError("bad seconds")
    base = minute(int(found["year"]), month, day, int(found["hour"]), int(found["minute"]))
    return base + second - zone_offset(found["zone"])
