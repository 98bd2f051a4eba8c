"""The parser against lines the real Exim writes (Debian's exim4 with the drill's test config)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from csm.accounts.domains import DomainMap
from csm.clock import SystemClock
from csm.config.loader import load
from csm.config.mailrules import default_rules
from csm.detectors.mail.context import MailContext
from csm.detectors.mail.pipeline import MailDetectors
from csm.drill.build import build
from csm.host import Host
from csm.logtail.formats import exim, eximauth, text
from csm.mailqueue.exim import Exim

pytestmark = pytest.mark.exim
MESSAGE = b"From: info@bluefin.test\nTo: x@example.org\nSubject: Quarterly report\n\nbody\n"


def test_exims_own_arrival_lines_parse(tmp_path: Path, exim_bin: str) -> None:
    host = build(tmp_path / "h", 1, SystemClock())
    config = load(host.config_path, host.config_path.parent / "conf.d", {}).config
    commands = Exim(config.mail, Host(host.root))
    mainlog = host.root / "var/log/exim_mainlog"
    before = mainlog.read_bytes()
    authed = commands.argv(
        "-odq", "-oMr", "esmtpa", "-oMa", "203.0.113.42", "-oMs", "mua.example.net",
        "-oMaa", "dovecot_login", "-oMai", "info@bluefin.test", "-f", "info@bluefin.test", "x@example.org",
    )  # fmt: skip
    subprocess.run(authed, input=MESSAGE, check=True)
    subprocess.run(
        commands.argv("-odq", "-f", "alice@bluefin.test", "y@example.org"),
        input=MESSAGE,
        check=True,
    )
    written = mainlog.read_bytes()[len(before) :].splitlines()
    arrivals = [
        line
        for line in (exim.parse(text.line(raw), 2026) for raw in written)
        if line and line.flag == "<="
    ]
    assert len(arrivals) == 2
    remote, local = (exim.arrival(line.rest) for line in arrivals)
    assert remote is not None and local is not None
    assert (remote.auth, remote.ip, remote.host, remote.protocol) == (
        "dovecot_login:info@bluefin.test", "203.0.113.42", "mua.example.net", "esmtpa",
    )  # fmt: skip
    assert (local.user, local.protocol, local.auth) == ("root", "local", "")
    assert all(len(line.msgid) in (16, 23) for line in arrivals)


AUTH_CONFIG = """primary_hostname = test.example
exim_user = root
exim_group = root
spool_directory = {root}/spool
log_file_path = {root}/log/%slog
keep_environment =
log_selector = {selector}
begin authenticators
fixed_login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${{if eq{{$auth2}}{{right}}}}
  server_set_id = $auth1
auth_plain:
  driver = plaintext
  public_name = PLAIN
  server_condition = ${{if eq{{$auth3}}{{right}}}}
  server_set_id = $auth2
"""
SELECTORS = ("", "+incoming_port", "+incoming_interface +pid", "+all", "-all +millisec")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("selector", SELECTORS)
def test_exims_own_auth_failure_lines_are_brute_force(
    tmp_path: Path, exim_bin: str, selector: str
) -> None:
    """Six refused AUTH attempts (PLAIN and LOGIN, an address and a bare login, a HELO name
    and an address literal, a known host name), written by the real Exim to its mainlog."""
    (tmp_path / "log").mkdir()
    config = tmp_path / "exim.conf"
    config.write_text(AUTH_CONFIG.format(root=tmp_path, selector=selector))
    sessions = [
        ("laptop", f"AUTH PLAIN {_b64(chr(0) + 'info@shop.example' + chr(0) + 'wrong')}"),
        ("[203.0.113.9]", f"AUTH LOGIN\r\n{_b64('anna')}\r\n{_b64('nope')}"),
    ] * 3
    for number, (helo, auth) in enumerate(sessions):
        argv = [exim_bin, "-C", str(config), "-bs", "-oMa", f"203.0.113.9.{40000 + number}",
                "-oMi", "192.0.2.1.587", "-oMr", "esmtp"]  # fmt: skip
        if number % 2:
            argv += ["-oMs", "mail.example.net"]
        script = f"EHLO {helo}\r\n{auth}\r\nQUIT\r\n"
        subprocess.run(argv, input=script.encode(), capture_output=True, check=True)
    written = (tmp_path / "log/mainlog").read_bytes().splitlines()
    failures = [line for line in written if b"authenticator failed" in line]
    assert len(failures) == 6, written
    context = MailContext.build(default_rules(), DomainMap(), [], [])
    detectors = MailDetectors(context)
    found = detectors.exim_lines(written, 2026)
    assert detectors.lines["parsed"] >= 6 and not detectors.lines["skipped"]
    assert [(f.check, f.remote_ip) for f in found] == [("smtp_bruteforce", "203.0.113.9")]
    logins = set()
    for raw in failures:
        parsed = exim.parse(text.line(raw), 2026)
        assert parsed is not None
        failed = eximauth.auth_failure(parsed.rest)
        assert failed is not None and failed.ip == "203.0.113.9" and failed.guess
        logins.add(failed.login)
    assert logins == {"info@shop.example", "anna"}


def test_exim_minus_bh_lines_of_an_ipv6_client(tmp_path: Path, exim_bin: str) -> None:
    """``exim -bh`` prints the lines it would log: an IPv6 client, written in full."""
    config = tmp_path / "exim.conf"
    config.write_text(AUTH_CONFIG.format(root=tmp_path, selector="+incoming_port"))
    script = (
        f"EHLO [192.0.2.7]\r\nAUTH PLAIN {_b64(chr(0) + 'a@b.example' + chr(0) + 'x')}\r\nQUIT\r\n"
    )
    done = subprocess.run(
        [exim_bin, "-C", str(config), "-bh", "2001:db8::7.51234"],
        input=script.encode(), capture_output=True, check=True,
    )  # fmt: skip
    logged = [line[5:].decode() for line in done.stderr.splitlines() if line.startswith(b"LOG: ")]
    [line] = [line for line in logged if "authenticator failed" in line]
    assert "[2001:0db8:0000:0000:0000:0000:0000:0007]:51234" in line  # as Exim writes it
    failed = eximauth.auth_failure(line)
    assert failed is not None and (failed.ip, failed.login) == ("2001:db8::7", "a@b.example")
