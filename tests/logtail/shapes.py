"""Every shape of an authentication-failure line the mail programs write, as hypothesis
strategies: a canonical failure (time, address, login) rendered in any of them.

Exim: ``smtp_in.c``'s ``<driver> authenticator failed for <host_and_ident>: <reply>`` across
versions and ``log_selector``; Dovecot: login-process and auth-process lines from 1.x to 2.4;
Postfix: ``smtpd``'s SASL warning under any service name.  Each mail program's line is then
wrapped as its log has it (Exim's own file, or any syslog shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import strategies as st

AUTHENTICATORS = (
    "login",
    "plain",
    "fixed_login",
    "fixed_plain",
    "auth_plain",
    "dovecot_login",
    "dovecot_plain",
    "plain_server",
    "login_server",
    "cram_md5",
    "LOGIN",
)
START = int(datetime(2026, 11, 20, 9, 0, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Failure:
    at: int  # epoch seconds (UTC)
    ip: str
    login: str  # "" for none


ipv4 = st.tuples(*[st.integers(1, 254)] * 4).map(lambda t: "%d.%d.%d.%d" % t)  # noqa: UP031
ipv6 = st.integers(1, 0xFFFF).map(lambda n: f"2001:db8::{n:x}")
addresses = st.one_of(ipv4, ipv6)
words = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
    lambda w: w[0] != "-"
)
logins = st.one_of(words, st.builds(lambda u, d: f"{u}@{d}.example", words, words), st.just(""))
failures = st.builds(Failure, st.integers(START, START + 86_400), addresses, logins)


def stamp(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def syslog_stamp(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%b %e %H:%M:%S")


def rfc3339(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.123456+00:00")


@st.composite
def wrapped(draw: st.DrawFn, at: int, program: str, message: str) -> str:  # noqa: PLR0911
    """``message`` from ``program`` as a syslog daemon or a collector writes it."""
    pid = draw(st.integers(1, 99_999))
    host = draw(st.sampled_from(("server1", "mx.example.net", "cpanel-01", "mx1", "h")))
    shape = draw(
        st.sampled_from(
            ("traditional", "precise", "rfc3339", "rfc5424", "pri", "host_first", "zone")
        )
    )
    tag = f"{program}[{pid}]"
    if shape == "traditional":
        return f"{syslog_stamp(at)} {host} {tag}: {message}"
    if shape == "precise":
        return f"{syslog_stamp(at)}.123456 {host} {tag}: {message}"
    if shape == "rfc3339":
        return f"{rfc3339(at)} {host} {tag}: {message}"
    if shape == "zone":
        local = datetime.fromtimestamp(at + 3 * 3600, UTC).strftime("%Y-%m-%dT%H:%M:%S+03:00")
        return f"{local} {host} {tag}: {message}"
    if shape == "rfc5424":
        iso = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return f"<22>1 {iso} {host} {program} {pid} - - {message}"
    if shape == "pri":
        return f"<22>{syslog_stamp(at)} {host} {tag}: {message}"
    return f"{host} {syslog_stamp(at)} {tag}: {message}"


@st.composite
def exim_lines(draw: st.DrawFn, failure: Failure) -> str:
    """``failure`` as Exim writes it, in any version's and log_selector's shape."""
    driver = draw(st.one_of(st.sampled_from(AUTHENTICATORS), words.map(lambda w: w + "_auth")))
    helo = draw(st.one_of(st.none(), words, st.just(f"[{failure.ip}]")))
    name = draw(st.one_of(st.none(), st.just("mail.example.net")))
    client = " ".join(part for part in (name, f"({helo})" if helo else None) if part)
    address = f"[{failure.ip}]"
    if draw(st.booleans()):
        address += f":{draw(st.integers(1, 65535))}"
    host = f"{client} {address}" if client else address
    if draw(st.booleans()):
        host = "H=" + host
    if draw(st.booleans()):
        host += f" I=[192.0.2.1]:{draw(st.sampled_from((25, 465, 587)))}"
    if draw(st.booleans()):
        host += " U=nobody"
    if draw(st.booleans()):
        host += f" Ci={draw(st.integers(1, 9_999_999))}"
    text = f"{driver} authenticator failed for {host}: 535 Incorrect authentication data"
    if failure.login or draw(st.booleans()):
        text += f" (set_id={failure.login})"
    return draw(exim_wrapped(failure.at, text))


@st.composite
def exim_wrapped(draw: st.DrawFn, at: int, text: str) -> str:
    shape = draw(st.sampled_from(("own", "pid", "subsecond", "syslog", "syslog_stamped")))
    if shape == "own":
        return f"{stamp(at)} {text}"
    if shape == "pid":
        return f"{stamp(at)} [{draw(st.integers(1, 99_999))}] {text}"
    if shape == "subsecond":
        return f"{stamp(at)}.{draw(st.integers(0, 999)):03d} {text}"
    inner = f"{stamp(at)} {text}" if shape == "syslog_stamped" else text
    return draw(wrapped(at, draw(st.sampled_from(("exim", "exim4"))), inner))


@st.composite
def dovecot_lines(draw: st.DrawFn, failure: Failure, attempts: int = 0) -> tuple[str, int]:
    """``failure`` as a Dovecot login process writes it at the connection's end, with its
    attempts (drawn unless given)."""
    attempts = attempts or draw(st.integers(1, 12))
    service = draw(st.sampled_from(("imap", "pop3", "managesieve", "submission")))
    secs = draw(st.sampled_from(("", f" in {attempts * 3} secs")))
    failed = f"(auth failed, {attempts} attempts{secs})"
    reason = draw(
        st.sampled_from(
            (
                f"Aborted login {failed}",
                f"Disconnected {failed}",
                f"Disconnected: Inactivity {failed}",
                f"Login aborted: Connection closed {failed} (auth_failed)",
                f"Login aborted: Logged out {failed} (auth_failed)",
                f"Disconnected: Too many invalid commands. {failed}",
            )
        )
    )
    rip = failure.ip
    if "." in rip:
        rip = draw(st.sampled_from((rip, f"::ffff:{rip}")))
    fields = [f"user=<{failure.login}>"] if failure.login or draw(st.booleans()) else []
    fields += [f"method={draw(st.sampled_from(('PLAIN', 'LOGIN', 'CRAM-MD5')))}", f"rip={rip}"]
    extras = (
        "TLS",
        "TLS: Disconnected",
        "session=<Ab12/Cd>",
        "rport=51234",
        "lport=993",
        "secured",
        "mpid=0",
    )
    fields += ["lip=192.0.2.1", *draw(st.lists(st.sampled_from(extras), max_size=3))]
    level = draw(st.sampled_from(("", "Info: ")))
    message = f"{service}-login: {level}{reason}: {', '.join(fields)}"
    return draw(dovecot_wrapped(failure.at, message)), attempts


@st.composite
def dovecot_connection(draw: st.DrawFn, failure: Failure) -> list[str]:
    """A connection's failed attempts as Dovecot logs them: with ``auth_verbose``, one
    auth-process line per attempt (with the session id the end names, on 2.2+), then the
    login process's end; without, the end alone."""
    attempts = draw(st.integers(1, 4))
    end, _ = draw(dovecot_lines(failure, attempts))
    if draw(st.booleans()):
        return [end]
    session = draw(st.sampled_from(("", "Zx81/AbCdEfGh")))
    if session:
        end += f", session=<{session}>"
    auth = [draw(dovecot_auth_lines(failure, session)) for _ in range(attempts)]
    return [*auth, end]


@st.composite
def dovecot_auth_lines(draw: st.DrawFn, failure: Failure, session: str | None = None) -> str:
    driver = draw(st.sampled_from(("passwd-file", "pam", "sql", "ldap", "checkpassword")))
    who = f"{failure.login or '?'},{failure.ip}"
    if session is None:
        session = draw(st.sampled_from(("", "AbCdEf12")))
    if session:
        who += f",<{session}>"
    verdict = draw(
        st.sampled_from(
            (
                "Password mismatch",
                "unknown user",
                "pam_authenticate() failed: Authentication failure (password mismatch?)",
                "invalid credentials",
                "Password mismatch (for LOGIN)",
            )
        )
    )
    process = draw(
        st.sampled_from(
            (
                "auth",
                "auth-worker(4321)",
                "auth(default)",
                "auth-worker(default)",
                "auth-worker(4321): conn unix:auth-worker (pid=4300,uid=97): auth-worker<7>",
            )
        )
    )
    level = draw(st.sampled_from(("", "Info: ")))
    return draw(dovecot_wrapped(failure.at, f"{process}: {level}{driver}({who}): {verdict}"))


@st.composite
def dovecot_wrapped(draw: st.DrawFn, at: int, message: str) -> str:
    if draw(st.integers(0, 5)) == 0:  # Dovecot's own log file (log_path)
        return f"{syslog_stamp(at)} {message}"
    return draw(wrapped(at, "dovecot", message))


@st.composite
def postfix_lines(draw: st.DrawFn, failure: Failure) -> str:
    program = draw(
        st.sampled_from(
            (
                "postfix/smtpd",
                "postfix/submission/smtpd",
                "postfix/smtps/smtpd",
                "postfix-in/smtpd",
                "mx/587/smtpd",
            )
        )
    )
    name = draw(st.sampled_from(("unknown", "host-1.example.net")))
    port = f":{draw(st.integers(1, 65535))}" if draw(st.booleans()) else ""
    mechanism = draw(
        st.sampled_from(
            ("LOGIN", "PLAIN", "CRAM-MD5", "DIGEST-MD5", "login", "plain", "SCRAM-SHA-256", "NTLM")
        )
    )
    reason = draw(st.sampled_from(("UGFzc3dvcmQ6", "authentication failure", "")))
    message = (
        f"warning: {name}[{failure.ip}]{port}: SASL {mechanism} authentication failed: {reason}"
    )
    if failure.login:
        message += f", sasl_username={failure.login}"
    return draw(wrapped(failure.at, program, message))
