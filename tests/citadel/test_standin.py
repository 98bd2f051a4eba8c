"""The Citadel stand-in speaks the protocol as protocol.txt and delivery-list.txt document it:
checked on the raw socket, byte for byte, without CSM's client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.citadel_standin import FQDN, QUEUE_ROOM, CitadelStandIn, socket_root
from tests.citadel_systemctl import write_systemctl

USERS = {"Admin": ("secret", 6), "Bob": ("hunter2", 4)}


class Raw:
    """A raw protocol connection: lines as the server sends them, line ends included."""

    def __init__(self, address: Path | int) -> None:
        if isinstance(address, Path):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(5)
            self.sock.connect(str(address))
        else:
            self.sock = socket.create_connection(("127.0.0.1", address), 5)
        self.stream = self.sock.makefile("rb")
        self.greeting = self.line()

    def close(self) -> None:
        self.stream.close()
        self.sock.close()

    def line(self) -> bytes:
        return self.stream.readline()

    def send(self, text: str, end: str = "\n") -> None:
        self.sock.sendall(text.encode() + end.encode())

    def ask(self, text: str) -> bytes:
        self.send(text)
        return self.line()

    def listing(self) -> list[bytes]:
        """The raw lines after a ``1xx`` line, up to and without ``000\\n``."""
        lines = []
        while (line := self.line()) != b"000\n":
            assert line, "the server closed the connection inside a listing"
            lines.append(line)
        return lines

    def login(self, user: str, password: str) -> bytes:
        assert self.ask(f"USER {user}").startswith(b"300 ")
        return self.ask(f"PASS {password}")


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    with socket_root(tmp_path) as path:
        yield path


@pytest.fixture
def standin(root: Path) -> Iterator[CitadelStandIn]:
    with CitadelStandIn(root, users=USERS, tcp=True, unit_dir=root / "units") as server:
        yield server
    assert server.errors == []


@pytest.fixture
def admin(standin: CitadelStandIn) -> Iterator[Raw]:
    raw = Raw(standin.admin_socket)
    yield raw
    raw.close()


@pytest.fixture
def tcp(standin: CitadelStandIn) -> Iterator[Raw]:
    raw = Raw(standin.port)
    yield raw
    raw.close()


def queue(standin: CitadelStandIn, count: int = 1) -> list[int]:
    return [
        standin.submit(f"s{n}@example.test", [f"r{n}@example.net"], f"Subject {n}", f"Body {n}")
        for n in range(count)
    ]


# -- greeting, framing, login ------------------------------------------------------------------


def test_the_admin_socket_greets_as_an_admin_connection(admin: Raw) -> None:
    assert admin.greeting == f"200 {FQDN} Citadel server ADMIN CONNECTION ready.\n".encode()
    assert admin.ask("NOOP") == b"200 ok\n"
    assert admin.ask("ECHO hello there") == b"200 hello there\n"


def test_the_admin_socket_is_for_its_owner_only(standin: CitadelStandIn) -> None:
    assert standin.admin_socket.stat().st_mode & 0o777 == 0o700


def test_an_unknown_command_is_530(admin: Raw, tcp: Raw) -> None:
    assert admin.ask("XYZZ 1|2") == b"530 Unrecognized or unsupported command.\n"
    assert tcp.ask("XYZZ") == b"530 Unrecognized or unsupported command.\n"


def test_client_lines_may_end_in_crlf(admin: Raw) -> None:
    admin.send("ECHO crlf", end="\r\n")
    assert admin.line() == b"200 crlf\n"
    admin.send("noop", end="\r\n")  # verbs are not case-sensitive
    assert admin.line() == b"200 ok\n"


def test_quit_says_goodbye_and_closes(admin: Raw) -> None:
    assert admin.ask("QUIT") == b"200 Goodbye.\n"
    assert admin.line() == b""


def test_info_is_a_listing(admin: Raw) -> None:
    assert admin.ask("INFO") == b"100 Server info:\n"
    items = admin.listing()
    assert len(items) == 25
    assert items[3] == f"{FQDN}\n".encode()


def test_a_tcp_session_needs_a_login(tcp: Raw) -> None:
    assert tcp.greeting == f"200 {FQDN} Citadel server ready.\n".encode()
    for command in ("MSGS ALL", f"GOTO {QUEUE_ROOM}", "CONF GETVAL|c_smtp_port", "MSG2 1000"):
        assert tcp.ask(command) == b"520 Not logged in.\n"
    assert tcp.ask("NOOP") == b"200 ok\n"
    assert tcp.ask("INFO") == b"100 Server info:\n"
    tcp.listing()


def test_user_and_pass_replies(tcp: Raw) -> None:
    assert tcp.ask("PASS secret") == b"542 You must send a name with USER first.\n"
    assert tcp.ask("USER nobody") == b"570 nobody not found.\n"
    assert tcp.ask("USER admin") == b"300 Password required for Admin\n"
    assert tcp.ask("PASS wrong") == b"540 Wrong password.\n"
    reply = tcp.ask("PASS secret").decode()
    fields = reply.removeprefix("200 ").rstrip("\n").split("|")
    assert reply.startswith("200 ")
    assert (fields[0], fields[1], len(fields)) == ("Admin", "6", 7)
    assert tcp.ask("USER Bob") == b"541 Already logged in.\n"


def test_a_non_aide_cannot_reach_the_queue_room_or_the_configuration(tcp: Raw) -> None:
    assert tcp.login("Bob", "hunter2").startswith(b"200 Bob|4|")
    assert tcp.ask(f"GOTO {QUEUE_ROOM}") == f"572 room '{QUEUE_ROOM}' not found\n".encode()
    assert tcp.ask("CONF GETVAL|c_smtp_port") == b"550 This command requires Admin access.\n"
    assert tcp.ask("CRE8 1|Trash|3||0") == b"550 You need higher access to create rooms.\n"
    assert tcp.ask("GOTO Mail").startswith(b"200 Mail|")
    assert tcp.ask("MOVE 1000|Mail|0") == b"574 Source and target rooms are the same.\n"


def test_an_aide_reaches_the_queue_room_over_tcp(standin: CitadelStandIn, tcp: Raw) -> None:
    job = queue(standin)[0]
    assert tcp.login("Admin", "secret").startswith(b"200 Admin|6|")
    assert tcp.ask(f"GOTO {QUEUE_ROOM}").startswith(f"200 {QUEUE_ROOM}|2|2|".encode())
    assert tcp.ask("MSGS ALL") == b"100 \n"
    assert tcp.listing() == [f"{job}\n".encode(), f"{job + 1}\n".encode()]


# -- rooms ------------------------------------------------------------------------------------


def test_goto_a_missing_room_is_572(admin: Raw) -> None:
    assert admin.ask("GOTO Nowhere") == b"572 room 'Nowhere' not found\n"


def test_goto_lists_the_room_s_fields(standin: CitadelStandIn, admin: Raw) -> None:
    jobs = queue(standin, 2)
    reply = admin.ask(f"GOTO {QUEUE_ROOM.lower()}").decode()
    assert reply.startswith("200 ") and reply.endswith("|\n")
    fields = reply[4:-2].split("|")
    assert len(fields) == 16
    assert fields[0] == QUEUE_ROOM  # the room's own spelling
    assert (fields[1], fields[2], fields[5]) == ("4", "4", str(jobs[1] + 1))
    assert (fields[7], fields[11], fields[14]) == ("0", "11", "1")  # not mail, queue view, system
    assert admin.ask("GOTO Mail").decode().split("|")[7] == "1"


def test_cre8_creates_a_room_once_and_stays(admin: Raw, standin: CitadelStandIn) -> None:
    assert admin.ask("GOTO Mail").startswith(b"200 ")
    assert admin.ask("CRE8 0|Trash|3||0") == b"200 OK to create 'Trash'\n"
    assert admin.ask("CRE8 1|Trash|3||0") == b"200 'Trash' has been created.\n"
    assert admin.ask("CRE8 1|trash|3||0") == b"574 'trash' already exists.\n"
    assert admin.ask("CRE8 1||3||0") == b"512 Invalid room name.\n"
    assert admin.ask("CRE8 1|Other|9||0") == b"512 Invalid room type.\n"
    assert standin.room("Trash") == []
    assert admin.ask("MSGS ALL") == b"100 \n"  # still in Mail
    assert admin.listing() == []


# -- messages ---------------------------------------------------------------------------------


def test_msgs_lists_numbers_and_ends_with_000(standin: CitadelStandIn, admin: Raw) -> None:
    jobs = queue(standin, 2)
    numbers = [jobs[0], jobs[0] + 1, jobs[1], jobs[1] + 1]
    admin.ask(f"GOTO {QUEUE_ROOM}")
    assert admin.ask("MSGS ALL") == b"100 \n"
    assert admin.listing() == [f"{n}\n".encode() for n in numbers]
    for command, expected in (
        ("MSGS NEW", numbers),
        ("MSGS OLD", []),
        ("MSGS FIRST|1", numbers[:1]),
        ("MSGS LAST|2", numbers[2:]),
        (f"MSGS GT|{numbers[1]}", numbers[2:]),
        (f"MSGS LT|{numbers[1]}", numbers[:1]),
    ):
        assert admin.ask(command) == b"100 \n", command
        assert admin.listing() == [f"{n}\n".encode() for n in expected], command


def test_msgs_with_a_template_filters(standin: CitadelStandIn, admin: Raw) -> None:
    jobs = queue(standin, 2)
    admin.ask(f"GOTO {QUEUE_ROOM}")
    assert admin.ask("MSGS ALL|0|1") == b"800 Send template then receive message list\n"
    admin.send("subj|QMSG")
    admin.send("000")
    assert admin.line() == b"100 \n"
    assert admin.listing() == [f"{jobs[0] + 1}\n".encode(), f"{jobs[1] + 1}\n".encode()]


def test_msg2_sends_the_message_with_crlf_lines(standin: CitadelStandIn, admin: Raw) -> None:
    job = standin.submit("a@example.test", ["b@example.net"], "Hi", "line one\nline two\n")
    admin.ask(f"GOTO {QUEUE_ROOM}")
    assert admin.ask(f"MSG2 {job}") == b"100 msg:\n"
    lines = admin.listing()
    assert lines and all(line.endswith(b"\r\n") for line in lines)
    assert b"".join(line.replace(b"\r\n", b"\n") for line in lines) == standin.text(job)
    assert lines[-3:] == [b"\r\n", b"line one\r\n", b"line two\r\n"]


def test_msg2_sends_a_body_line_000_as_it_is(standin: CitadelStandIn, admin: Raw) -> None:
    job = standin.submit("a@example.test", ["b@example.net"], "Hi", "before\n000\nafter\n")
    admin.ask(f"GOTO {QUEUE_ROOM}")
    assert admin.ask(f"MSG2 {job}") == b"100 msg:\n"
    lines = admin.listing()  # up to the real end: the body's line is 000\r\n
    assert lines[-3:] == [b"before\r\n", b"000\r\n", b"after\r\n"]
    assert admin.ask("ECHO next") == b"200 next\n"


def test_msg0_and_msg2_refuse_other_rooms_messages(standin: CitadelStandIn, admin: Raw) -> None:
    job = queue(standin)[0]
    admin.ask("GOTO Mail")
    assert admin.ask(f"MSG2 {job}") == f"550 message {job} was not found in this room\n".encode()
    assert admin.ask(f"MSG0 {job}|0") == f"550 message {job} was not found in this room\n".encode()
    assert admin.ask("MSG2 99999") == b"575 Can't locate msg 99999 on disk\n"


def test_msg0_lists_the_header_fields_and_the_text(standin: CitadelStandIn, admin: Raw) -> None:
    job = standin.submit(
        "Alice <alice@example.test>", ["b@example.net"], "Hello", "Hi Bob\n", submitted=1700000000
    )
    admin.ask(f"GOTO {QUEUE_ROOM}")
    assert admin.ask(f"MSG0 {job}|0") == b"100 msg:\n"
    lines = [line.decode().rstrip("\n") for line in admin.listing()]
    assert lines[0] == "type=4"
    assert lines[1] == f"msgn=standin-{job}@{FQDN}"
    assert lines[2:-2] == [
        "time=1700000000",
        "from=Alice",
        "rfca=alice@example.test",
        f"room={QUEUE_ROOM}",
        "rcpt=b@example.net",
        "subj=Hello",
    ]
    assert lines[-2:] == ["text", "Hi Bob"]
    assert admin.ask(f"MSG0 {job}|1") == b"100 msg:\n"
    assert b"text\n" not in admin.listing()


def test_msg0_summarises_a_delivery_list(standin: CitadelStandIn, admin: Raw) -> None:
    job = standin.submit("a@example.test", ["b@example.net"], "Hi", "x\n", submitted=5)
    admin.ask(f"GOTO {QUEUE_ROOM}")
    assert admin.ask(f"MSG0 {job + 1}|0") == b"100 msg:\n"
    lines = admin.listing()
    size = len(standin.text(job + 1).partition(b"\n\n")[2])
    assert b"subj=QMSG\n" in lines
    assert lines[-2:] == [
        b"text\n",
        f"Part 1:  (application/x-citadel-delivery-list) ({size} bytes)\n".encode(),
    ]


def test_the_instructions_are_as_delivery_list_txt_describes(standin: CitadelStandIn) -> None:
    job = standin.submit(
        "a@example.test", ["b@example.net", "c@example.org"], "Hi", "x", submitted=1700000000
    )
    head, _, body = standin.text(job + 1).decode().partition("\n\n")
    assert "Subject: QMSG" in head.splitlines()
    assert "Content-type: application/x-citadel-delivery-list" in head.splitlines()
    assert body.splitlines() == [
        f"msgid|{job}",
        "submitted|1700000000",
        "bounceto|a@example.test",
        "envelope_from|a@example.test",
        "remote|b@example.net|0||",
        "remote|c@example.org|0||",
    ]
    other = standin.submit("d@x.test", ["e@y.test"], "S", "", bounceto="d", envelope_from=False)
    assert standin.text(other + 1).decode().partition("\n\n")[2].splitlines()[2:] == [
        "bounceto|d",
        "remote|e@y.test|0||",
    ]


def test_move_moves_the_references(standin: CitadelStandIn, admin: Raw) -> None:
    job = queue(standin)[0]
    admin.ask("CRE8 1|Trash|3||0")
    admin.ask(f"GOTO {QUEUE_ROOM}")
    assert admin.ask("MOVE 1|Nowhere|0") == b"572 'Nowhere' does not exist.\n"
    assert admin.ask(f"MOVE {job}|{QUEUE_ROOM}|0") == (
        b"574 Source and target rooms are the same.\n"
    )
    assert admin.ask(f"MOVE {job},{job + 1}|Trash|0") == b"200 Message(s) moved.\n"
    assert (standin.room(QUEUE_ROOM), standin.room("Trash")) == ([], [job, job + 1])
    admin.ask("GOTO Trash")
    assert admin.ask(f"MOVE {job}|Mail|1") == b"200 Message(s) copied.\n"
    assert standin.room("Mail") == [job]
    assert admin.ask(f"DELE {job},{job + 1}") == b"200 2 messages deleted.\n"
    assert admin.ask(f"DELE {job}") == b"575 Message not found.\n"
    assert standin.text(job)  # Mail still refers to it
    with pytest.raises(KeyError):
        standin.text(job + 1)
    admin.ask("GOTO Mail")
    assert admin.ask(f"DELE {job}") == b"200 1 message deleted.\n"
    with pytest.raises(KeyError):
        standin.text(job)


def test_move_on_the_admin_socket_can_need_an_aide_s_login(root: Path) -> None:
    with CitadelStandIn(root, users=USERS, move_needs_login=True) as standin:
        job = queue(standin)[0]
        raw = Raw(standin.admin_socket)
        try:
            raw.ask(f"GOTO {QUEUE_ROOM}")
            assert raw.ask(f"MOVE {job}|Mail|0") == b"550 Higher access required.\n"
            assert raw.login("Admin", "secret").startswith(b"200 ")
            assert raw.ask(f"MOVE {job}|Mail|0") == b"200 Message(s) moved.\n"
        finally:
            raw.close()
        assert standin.room("Mail") == [job]


# -- the site configuration -------------------------------------------------------------------


def test_conf_getval_putval_listval(standin: CitadelStandIn, admin: Raw) -> None:
    assert admin.ask("CONF GETVAL|c_smtp_port") == b"200 25|\n"
    assert admin.ask("CONF GETVAL|no_such_key") == b"500 |\n"
    assert admin.ask("CONF PUTVAL|c_smtp_port|-1") == b"200 setting 'c_smtp_port' to '-1'\n"
    assert admin.ask("CONF PUTVAL|c_smtp_port") == b"500 name and value required\n"
    assert admin.ask("CONF GETVAL|c_smtp_port") == b"200 -1|\n"
    assert standin.config["c_smtp_port"] == "-1"
    assert admin.ask("CONF LISTVAL") == b"100 all configuration variables\n"
    assert b"c_smtp_port|-1\n" in admin.listing()
    assert admin.ask("CONF FROB") == b"512 Illegal option(s) specified.\n"


def test_conf_get_lists_the_legacy_positions(admin: Raw) -> None:
    assert admin.ask("CONF GET") == b"100 Configuration...\n"
    lines = admin.listing()
    assert len(lines) >= 70
    assert (lines[0], lines[1]) == (b"citadel\n", f"{FQDN}\n".encode())
    assert (lines[24], lines[38], lines[41], lines[68]) == (b"25\n", b"587\n", b"465\n", b"504\n")


def test_conf_set_reads_a_listing_and_sends_no_reply(standin: CitadelStandIn, admin: Raw) -> None:
    admin.ask("CONF GET")
    lines = [line.decode().rstrip("\n") for line in admin.listing()]
    lines[24], lines[41] = "-1", "-1"
    assert admin.ask("CONF SET") == b"400 Send configuration...\n"
    for line in lines[:42]:  # a short listing leaves the rest as it is
        admin.send(line)
    admin.send("000")
    assert admin.ask("ECHO after") == b"200 after\n"  # nothing came between
    assert (standin.config["c_smtp_port"], standin.config["c_smtps_port"]) == ("-1", "-1")
    assert standin.config["c_msa_port"] == "587"
    assert standin.config["c_port_number"] == "504"


def test_a_legacy_server_has_no_key_value_configuration(root: Path) -> None:
    with CitadelStandIn(root, legacy_conf=True) as standin:
        raw = Raw(standin.admin_socket)
        try:
            for command in ("CONF GETVAL|c_smtp_port", "CONF PUTVAL|c_smtp_port|1", "CONF LISTVAL"):
                assert raw.ask(command) == b"512 Illegal option(s) specified.\n"
            assert raw.ask("CONF GET") == b"100 Configuration...\n"
            assert raw.listing()[24] == b"25\n"
        finally:
            raw.close()


# -- restart, the queue run, systemctl ----------------------------------------------------------


def drop_in(root: Path, name: str, text: str) -> Path:
    path = root / "units" / "citadel.service.d" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_restart_reads_the_drop_ins_and_closes_sessions(
    standin: CitadelStandIn, admin: Raw, root: Path
) -> None:
    assert (standin.restarts, standin.session_max, standin.environment) == (0, 500, {})
    assert standin.listeners == {"c_smtp_port": 25, "c_msa_port": 587, "c_smtps_port": 465}
    drop_in(
        root, "csm-emergency.conf", '# csm\n[Service]\nEnvironment="CITSERVER_n_session_max=0"\n'
    )
    drop_in(root, "other.conf", "[Unit]\nEnvironment=IGNORED=1\n[Service]\nEnvironment=A=b C=d\n")
    admin.ask("CONF PUTVAL|c_msa_port|-1")
    assert standin.listeners["c_msa_port"] == 587  # read when citserver starts
    standin.restart()
    assert admin.line() == b""  # the session was closed
    assert standin.restarts == 1
    assert standin.environment == {"CITSERVER_n_session_max": "0", "A": "b", "C": "d"}
    assert standin.session_max == 0
    assert standin.listeners == {"c_smtp_port": 25, "c_smtps_port": 465}


def test_the_queue_runs_unless_session_max_is_0(standin: CitadelStandIn, root: Path) -> None:
    jobs = queue(standin, 2)
    drop_in(root, "csm-emergency.conf", "[Service]\nEnvironment=CITSERVER_n_session_max=0\n")
    standin.restart()
    assert standin.run_queue() == []
    assert len(standin.room(QUEUE_ROOM)) == 4
    (root / "units" / "citadel.service.d" / "csm-emergency.conf").unlink()
    standin.restart()
    assert standin.run_queue() == jobs
    assert (standin.room(QUEUE_ROOM), standin.delivered) == ([], jobs)
    with pytest.raises(KeyError):
        standin.text(jobs[0])


def test_the_stand_in_systemctl_restarts_the_stand_in(standin: CitadelStandIn, root: Path) -> None:
    log = root / "systemctl.log"
    systemctl = write_systemctl(root / "bin" / "systemctl", standin.control_socket, log)
    drop_in(root, "csm-emergency.conf", '[Service]\nEnvironment="CITSERVER_n_session_max=0"\n')
    for args in (["daemon-reload"], ["restart", "citadel.service"], ["restart", "citadel"]):
        done = subprocess.run([str(systemctl), *args], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    assert standin.restarts == 2 and standin.session_max == 0
    assert [json.loads(line)[1:] for line in log.read_text().splitlines()] == [
        ["daemon-reload"],
        ["restart", "citadel.service"],
        ["restart", "citadel"],
    ]
    assert json.loads(log.read_text().splitlines()[0])[0] == str(systemctl)
    assert systemctl.read_text().startswith(f"#!{sys.executable}\n")


def test_the_stand_in_systemctl_fails_when_nothing_answers(root: Path) -> None:
    systemctl = write_systemctl(root / "systemctl", root / "gone.socket", root / "log")
    done = subprocess.run(
        [str(systemctl), "restart", "citadel"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "cannot restart citadel" in done.stderr


def test_a_socket_path_too_long_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="too long"):
        CitadelStandIn(tmp_path / ("x" * 120))
