"""CSM's Citadel client (``csm.citadel``) against the stand-in citserver, and against a hostile
one: it reads the queue room's jobs, the SMTP ports in both configuration dialects, notices a
message cut short by a line ``000``, and only ever raises CSM's own errors."""

from __future__ import annotations

import contextlib
import shutil
import socket
import socketserver
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm.citadel import spoolout
from csm.citadel.client import Address, Listed, Reply, Session, argument
from csm.citadel.siteconfig import set_smtp_ports, smtp_ports
from csm.errors import CommandError, ConfigError, CsmError, UsageError
from tests.citadel_standin import QUEUE_ROOM, CitadelStandIn, socket_root

USERS = {"aide": ("s3cret", 6), "bob": ("hunter2", 4)}
DEFAULT_PORTS = {"c_smtp_port": 25, "c_msa_port": 587, "c_smtps_port": 465}
DISABLED = dict.fromkeys(DEFAULT_PORTS, -1)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    with socket_root(tmp_path) as path:
        yield path


@pytest.fixture
def standin(root: Path) -> Iterator[CitadelStandIn]:
    with CitadelStandIn(root, users=USERS, tcp=True) as server:
        yield server
    assert server.errors == []


def admin(standin: CitadelStandIn) -> Address:
    return Address(standin.admin_socket, timeout=5)


def over_tcp(standin: CitadelStandIn, user: str, password: str) -> Address:
    return Address(
        Path("/nonexistent"), "127.0.0.1", standin.port, user=user, password=password, timeout=5
    )


# -- the queue room ----------------------------------------------------------------------------


def test_jobs_are_read_back_with_their_instructions(standin: CitadelStandIn) -> None:
    first = standin.submit(
        "info@shop.example", ["a@example.com", "b@example.org"], "Parcel", "click\n", submitted=17
    )
    second = standin.submit(
        "editor@blog.example", ["r@example.net"], "News", "hello", bounceto="editor"
    )
    with Session(admin(standin)) as session:
        room = spoolout.read(session, QUEUE_ROOM)
    assert room.numbers == [first, first + 1, second, second + 1]
    steps = {i.msgid: i for i in room.instructions}
    assert set(steps) == {first, second} and set(room.payloads) == {first, second}
    assert steps[first].number == first + 1
    assert steps[first].envelope_from == "info@shop.example"
    assert steps[first].bounceto == "info@shop.example"
    assert steps[first].pending == ("a@example.com", "b@example.org")
    assert steps[first].submitted == 17
    assert (steps[second].bounceto, steps[second].pending) == ("editor", ("r@example.net",))
    payload = room.payloads[first]
    assert b"From: info@shop.example" in payload.headers
    assert b"Subject: Parcel" in payload.headers
    assert payload.size == len(standin.text(first)) and not payload.cut_short


def test_a_body_line_000_is_reported_cut_short(standin: CitadelStandIn) -> None:
    cut = standin.submit("a@example.test", ["b@example.net"], "Cut", "before\n000\nafter\n")
    whole = standin.submit("c@example.test", ["d@example.net"], "Whole", "fine\n")
    with Session(admin(standin)) as session:
        room = spoolout.read(session, QUEUE_ROOM)
        assert session.command("NOOP") == Reply(200, "ok")  # still in step
        assert session.command("ECHO", "still here") == Reply(200, "still here")
        listed = session.message(whole)
    assert room.payloads[cut].cut_short
    assert b"Subject: Cut" in room.payloads[cut].headers
    assert not room.payloads[whole].cut_short
    assert {i.msgid for i in room.instructions} == {cut, whole}
    assert listed is not None and listed.lines[-1] == b"fine" and not listed.cut_short


def test_a_message_of_another_room_is_none(standin: CitadelStandIn) -> None:
    job = standin.submit("a@example.test", ["b@example.net"], "S", "x")
    with Session(admin(standin)) as session:
        session.goto("Mail")
        assert session.message(job) is None
        assert session.numbers() == []
        with pytest.raises(CommandError, match="572"):
            session.goto("Nowhere")


def test_moving_jobs_to_a_new_room(standin: CitadelStandIn) -> None:
    job = standin.submit("a@example.test", ["b@example.net"], "S", "x")
    with Session(admin(standin)) as session:
        session.ok("CRE8", "1", "Trash", "3", "", "0")
        session.goto(QUEUE_ROOM)
        assert session.command("MOVE", f"{job},{job + 1}", "Trash", "0").code == 200
        assert session.numbers() == []
    assert standin.room("Trash") == [job, job + 1]


# -- logins and reaching the server ------------------------------------------------------------


def test_an_aide_logs_in_over_tcp_and_reads_the_queue(standin: CitadelStandIn) -> None:
    job = standin.submit("a@example.test", ["b@example.net"], "S", "x")
    with Session(over_tcp(standin, "aide", "s3cret")) as session:
        assert [i.msgid for i in spoolout.read(session, QUEUE_ROOM).instructions] == [job]


def test_a_non_aide_cannot_read_the_queue_room(standin: CitadelStandIn) -> None:
    with (
        Session(over_tcp(standin, "bob", "hunter2")) as session,
        pytest.raises(CommandError, match="572"),
    ):
        spoolout.read(session, QUEUE_ROOM)


@pytest.mark.parametrize(("user", "password"), [("aide", "wrong"), ("nobody", "s3cret")])
def test_a_refused_login_is_a_config_error(
    standin: CitadelStandIn, user: str, password: str
) -> None:
    with pytest.raises(ConfigError, match="refused the login"):
        Session(over_tcp(standin, user, password))


def test_an_unreachable_server_is_a_command_error(root: Path, free_port: int) -> None:
    with pytest.raises(CommandError, match="cannot reach Citadel"):
        Session(Address(root / "citadel-admin.socket", timeout=2))
    with pytest.raises(CommandError, match="cannot reach Citadel"):
        Session(Address(root / "x", "127.0.0.1", free_port, timeout=2))


def test_a_stopped_server_is_a_command_error(root: Path) -> None:
    with CitadelStandIn(root) as standin:
        address = admin(standin)
    with pytest.raises(CommandError):
        Session(address)


@pytest.mark.parametrize("value", ["a|b", "a\rb", "a\nb", "a\x00b", "|", "\n"])
def test_argument_refuses_separators_and_line_breaks(value: str) -> None:
    with pytest.raises(UsageError):
        argument(value)


def test_an_unsafe_argument_is_never_sent(standin: CitadelStandIn) -> None:
    assert argument("plain text, ok") == "plain text, ok"
    with Session(admin(standin)) as session:
        with pytest.raises(UsageError):
            session.command("GOTO", "Mail\nDELE 1")
        assert session.command("NOOP") == Reply(200, "ok")


# -- the SMTP listeners in the site configuration ------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["getval", "legacy"])
def test_smtp_ports_are_read_and_set(root: Path, *, legacy: bool) -> None:
    with CitadelStandIn(root, legacy_conf=legacy) as standin:
        with Session(admin(standin)) as session:
            assert smtp_ports(session) == DEFAULT_PORTS
            set_smtp_ports(session, DISABLED)
            assert smtp_ports(session) == DISABLED
            assert session.command("NOOP") == Reply(200, "ok")  # in step after CONF SET
            set_smtp_ports(session, {"c_msa_port": 2525})
            assert smtp_ports(session) == {**DISABLED, "c_msa_port": 2525}
        assert standin.config["c_smtp_port"] == "-1"
        assert standin.config["c_port_number"] == "504"  # CONF SET kept the other lines
        assert standin.listeners == DEFAULT_PORTS  # citserver reads them when it starts
        standin.restart()
        assert standin.listeners == {"c_msa_port": 2525}
        assert standin.errors == []


def test_an_unknown_port_setting_is_refused(standin: CitadelStandIn) -> None:
    with Session(admin(standin)) as session, pytest.raises(CommandError, match="not an SMTP"):
        set_smtp_ports(session, {"c_imap_port": -1})


def test_a_non_aide_cannot_read_the_ports(standin: CitadelStandIn) -> None:
    with Session(over_tcp(standin, "bob", "hunter2")) as session, pytest.raises(CommandError):
        smtp_ports(session)


# -- properties ------------------------------------------------------------------------------

HEADER = (b"Subject: QMSG", b"Content-type: application/x-citadel-delivery-list", b"")
KEYS = [b"msgid", b"submitted", b"attempted", b"bounceto", b"envelope_from", b"remote", b"retry"]
TEXTS = st.text().map(str.encode)  # Unicode digits ("²", "①") included
NUMBERS = st.integers(-(10**25), 10**25).map(lambda n: str(n).encode())
FIELDS = st.builds(
    lambda key, values: b"|".join([key, *values]),
    st.sampled_from(KEYS),
    st.lists(st.one_of(TEXTS, NUMBERS), max_size=4),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary()))
def test_instructions_never_raise_on_arbitrary_lines(lines: list[bytes]) -> None:
    found = spoolout.instructions(7, Listed(tuple(lines), False))
    assert found is None or found.msgid > 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(FIELDS, st.binary())))
def test_instructions_never_raise_on_a_delivery_list(body: list[bytes]) -> None:
    found = spoolout.instructions(7, Listed((*HEADER, *body), False))
    assert found is None or (found.msgid > 0 and found.number == 7)


@pytest.mark.parametrize("text", ["msgid|²", "msgid|5\nremote|a@b.example|①|x"])
def test_instructions_with_a_unicode_digit(text: str) -> None:
    body = tuple(text.encode().split(b"\n"))
    found = spoolout.instructions(7, Listed((*HEADER, *body), False))
    assert found is None or found.msgid > 0


class HostileServer(socketserver.ThreadingUnixStreamServer):
    """Answers each connection with ``script`` (whatever the client says), then hangs up."""

    daemon_threads = True
    script = b""


class HostileHandler(socketserver.BaseRequestHandler):
    server: HostileServer

    def handle(self) -> None:
        with contextlib.suppress(OSError):
            self.request.sendall(self.server.script)
            self.request.shutdown(socket.SHUT_WR)
            self.request.settimeout(2)
            while self.request.recv(65536):
                pass


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[HostileServer, Path]]:
    directory = Path(tempfile.mkdtemp(prefix="csm-cit-", dir="/tmp"))
    path = directory / "hostile.socket"
    server = HostileServer(str(path), HostileHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server, path
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(directory, ignore_errors=True)


PLAUSIBLE = [
    *(b"200 ok", b"200 citadel.test Citadel server ready.", b"100 ", b"100 msg:", b"000"),
    *(b"300 Password required for aide", b"400 Send configuration...", b"500 |", b"200 25|"),
    *(b"200 -1|", b"520 Not logged in.", b"800 Send template", b"1000", b"1001", b""),
    *(b"Content-type: application/x-citadel-delivery-list", b"msgid|1000", b"Subject: QMSG"),
    *(b"remote|a@b.example|0||", b"submitted|1700000000", b"200 |", b"200 csm-0", b"2000 x"),
]
LINES = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.binary(max_size=24),
    st.builds(lambda c, t: b"%03d%s" % (c, t), st.integers(0, 999), st.binary(max_size=12)),
    NUMBERS,
)
SCRIPTS = st.builds(
    lambda lines, tail: b"".join(line + end for line, end in lines) + tail,
    st.lists(st.tuples(LINES, st.sampled_from([b"\n", b"\r\n", b"\r"])), max_size=40),
    st.sampled_from([b"", b"200 partial", b"000"]),
)
ACTIONS: dict[str, Callable[[Session], object]] = {
    "numbers": lambda s: s.numbers(),
    "read": lambda s: spoolout.read(s, QUEUE_ROOM),
    "ports": smtp_ports,
    "set": lambda s: set_smtp_ports(s, {"c_smtp_port": -1}),
    "message": lambda s: s.message(1000),
    "goto": lambda s: s.goto("Mail"),
    "sync": lambda s: s.sync(),
    "listing": lambda s: s.listing(),
}


@settings(max_examples=50, deadline=None)
@given(
    script=SCRIPTS,
    actions=st.lists(st.sampled_from(sorted(ACTIONS)), min_size=1, max_size=4),
    login=st.booleans(),
)
def test_a_hostile_server_raises_only_csm_errors(
    hostile: tuple[HostileServer, Path], script: bytes, actions: list[str], *, login: bool
) -> None:
    server, path = hostile
    server.script = script
    address = Address(path, user="aide" if login else "", password="pw", timeout=5)
    try:
        with Session(address) as session:
            for action in actions:
                ACTIONS[action](session)
    except CsmError:
        pass


def test_a_hostile_server_s_huge_message_number(hostile: tuple[HostileServer, Path]) -> None:
    server, path = hostile
    server.script = b"200 hi\n100 \n" + b"1" * 5000 + b"\n12\n000\n"
    with Session(Address(path, timeout=5)) as session:
        assert session.numbers() == [12]
