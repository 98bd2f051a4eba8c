"""A stand-in for Citadel's ``citserver``, for tests only: Debian ships no Citadel server, so the
tests talk to this one.  It runs as threads inside the pytest process and speaks the client
protocol as Citadel's ``techdoc/protocol.txt`` (section names quoted below) and
``techdoc/delivery-list.txt`` describe it, as far as CSM uses it.  It is not a Citadel server:
one global message store, no floors, no seen pointers, no MIME parsing.

Framing (protocol.txt "RESULT CODES", "PARAMETERIZATION"): every reply line starts with a
three-digit code; a ``1xx`` reply is followed by lines up to a line ``000``; ``4xx`` asks the
client for such a listing.  Server lines end in ``\\n``; client lines may end in ``\\n`` or
``\\r\\n``.  Commands are four letters, then a space, then ``|``-separated arguments.  An unknown
command answers ``530 Unrecognized or unsupported command.``

Where it listens (protocol.txt "CONNECTING TO A SERVER"):

- ``<root>/citadel-admin.socket``: the admin socket.  Greeting
  ``200 citadel.test Citadel server ADMIN CONNECTION ready.``; the session is an internal
  program, so no login is needed and every access check passes, except ``MOVE`` when
  ``move_needs_login`` is set (real MOVE checks the user's own access level: then only a
  logged-in Aide may move, others get ``550 Higher access required.``).
- 127.0.0.1, an ephemeral port (``port``), when ``tcp`` is set: a normal session.  Greeting
  ``200 citadel.test Citadel server ready.``; every command but NOOP, ECHO, QUIT, USER, PASS and
  INFO answers ``520 Not logged in.`` before a login; the queue room, ``CONF``, ``CRE8``, ``MOVE``
  and ``DELE`` (outside ``Mail``) need access level 6 (Aide).
- ``<root>/standin-control.socket``: not Citadel; the stand-in ``systemctl``
  (``tests/citadel_systemctl.py``) sends ``RESTART`` there and reads ``OK``.

Commands:

- ``NOOP`` -> ``200 ok``; ``ECHO text`` -> ``200 text``; ``QUIT`` -> ``200 Goodbye.`` and the
  connection is closed (protocol.txt "NOOP", "ECHO", "QUIT").
- ``INFO`` -> ``100 Server info:``, 25 lines, ``000`` (protocol.txt "INFO").
- ``USER name`` -> ``300 Password required for <name>`` / ``570 <name> not found.`` /
  ``541 Already logged in.``; ``PASS pw`` -> ``200 name|axlevel|timescalled|posted|flags|usernum|
  previous_login`` / ``540 Wrong password.`` / ``542 You must send a name with USER first.``
  (protocol.txt "USER", "PASS").
- ``GOTO room[|password]`` -> ``200 name|new|total|info|flags|highest|lastseen|is_mail|is_aide|
  newmail|floor|view|defaultview|is_trash|flags2|mtime|`` or ``572 room '<name>' not found``
  (also for a room the session may not know of: the queue room for a non-Aide) or
  ``540 wrong or missing passwd`` (protocol.txt "GOTO").  Room names match case-insensitively.
- ``MSGS mode[|n[|template[|headers]]]``: modes ALL, NEW (all: nothing is ever marked read),
  OLD (none), FIRST|n, LAST|n, GT|n, LT|n; SEARCH answers ``530 Full text index is not enabled on
  this server.``; an unknown mode is ALL.  Reply ``100 ``, one number a line, ``000``.  With a
  template (third argument 1): ``800 Send template then receive message list``, ``fld4|value``
  lines up to ``000`` (case-insensitive substring match), then the list.  With headers (fourth
  argument 1) each line is ``msgnum|time|author|node|rfca|subject`` (protocol.txt "MSGS").
- ``MSG0 n|mode`` -> ``100 msg:``, ``type=4``, ``msgn=``, ``time=``, ``from=``, ``rfca=``,
  ``room=``, ``rcpt=``, ``subj=`` (those present; none in mode 2), then in modes 0 and 2 ``text``
  and the body, ``000``.  A delivery-list message's body is the line ``Part 1:  (application/
  x-citadel-delivery-list) (N bytes)`` instead (protocol.txt "MSG0").
- ``MSG2 n|mode`` -> ``100 msg:``, the stored RFC 822 text line by line, each ending in
  ``\\r\\n``, then ``000`` (protocol.txt "MSG2").  A body line ``000`` is sent as it is, as
  citserver does.  MSG0 and MSG2 answer ``550 message N was not found in this room`` for a
  message not in the current room and ``575 Can't locate msg N on disk`` for a number the store
  does not hold.
- ``MOVE n,n,...|room|copy`` -> ``200 Message(s) moved.`` / ``200 Message(s) copied.`` /
  ``572 '<room>' does not exist.`` / ``574 Source and target rooms are the same.`` /
  ``550 Higher access required.``; only the references move, the numbers stay; numbers not in
  the current room are ignored (protocol.txt "MOVE").
- ``DELE n,n,...`` -> ``200 1 message deleted.`` / ``200 N messages deleted.`` /
  ``575 Message not found.``; a message leaves the store when its last reference goes
  (protocol.txt "DELE").
- ``CRE8 create|name|type|pass|floor|...`` -> ``200 '<name>' has been created.`` (create 0:
  ``200 OK to create '<name>'``) / ``574 '<name>' already exists.`` / ``512 Invalid room name.``
  / ``512 Invalid room type.`` / ``561 Invalid floor number.`` / ``550 You need higher access
  to create rooms.``; the session stays where it is (protocol.txt "CRE8").
- ``CONF`` (protocol.txt "CONF"): ``GET`` -> ``100 Configuration...``, the 72 positional lines of
  citserver's legacy list (``c_smtp_port`` at line 24, counted from 0, ``c_msa_port`` 38,
  ``c_smtps_port`` 41, ``c_port_number`` 68), ``000``; ``SET`` -> ``400 Send configuration...``,
  lines up to ``000`` set by position, and no reply after them (as current citserver does);
  ``GETVAL|key`` -> ``200 value|`` / ``500 |``; ``PUTVAL|key|value`` -> ``200 setting 'key' to
  'value'`` / ``500 name and value required``; ``LISTVAL`` -> ``100 all configuration
  variables``, ``key|value`` lines, ``000``; else ``512 Illegal option(s) specified.``  With
  ``legacy_conf`` (a server from before the key-value configuration) GETVAL, PUTVAL and LISTVAL
  answer ``512 Illegal option(s) specified.`` too.  Non-Aides: ``550 This command requires
  Admin access.``

The outbound queue (delivery-list.txt): room ``__CitadelSMTPspoolout__`` (a system room) holds two
messages per job, the message and its instructions (``Subject: QMSG``, ``Content-type:
application/x-citadel-delivery-list``, body ``msgid|N``, ``submitted|epoch``, ``bounceto|addr``,
``envelope_from|addr``, one ``remote|rcpt|0||`` per recipient).  :meth:`CitadelStandIn.submit`
queues a job that way; :meth:`CitadelStandIn.run_queue` "delivers" every job with a pending
recipient (status 0, 3 or 4) unless ``CITSERVER_n_session_max`` was 0 at the last restart (the
citserver man page, "ENVIRONMENT"; read once when citserver starts).  :meth:`restart` is what
``systemctl restart citadel`` does: open sessions are closed, the environment is read from the
unit's drop-ins, and the SMTP listener ports are read from the configuration (``-1``: disabled).
"""

from __future__ import annotations

import contextlib
import email.utils
import shlex
import shutil
import socket
import socketserver
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.citadel_session import _CitadelHandler
from tests.citadel_store import (
    DEFAULT_CONFIG,
    DELIVERY_LIST,
    FIRST_NUMBER,
    FQDN,
    LISTENER_KEYS,
    MAIL_ROOM,
    PENDING,
    QUEUE_ROOM,
    SESSION_MAX,
    UNIT,
    UNIX_PATH_MAX,
    VIEW_BBS,
    VIEW_MAILBOX,
    VIEW_QUEUE,
    Room,
    Stored,
    User,
    atoi,
    content_type,
    parse,
)


@contextlib.contextmanager
def socket_root(tmp_path: Path) -> Iterator[Path]:
    """A directory for the stand-in's sockets: ``tmp_path``, or a short directory under /tmp
    (removed afterwards) when ``tmp_path`` is too long for a Unix socket path."""
    if len(str(tmp_path / "standin-control.socket").encode()) <= UNIX_PATH_MAX - 8:
        yield tmp_path
        return
    short = Path(tempfile.mkdtemp(prefix="csm-cit-", dir="/tmp"))
    try:
        yield short
    finally:
        shutil.rmtree(short, ignore_errors=True)


# -- the server -----------------------------------------------------------------------------


class CitadelStandIn:
    """The stand-in citserver: see the module docstring.  Use it as a context manager."""

    def __init__(
        self,
        root: Path,
        *,
        users: dict[str, tuple[str, int]] | None = None,
        legacy_conf: bool = False,
        move_needs_login: bool = False,
        unit_dir: Path | None = None,
        tcp: bool = False,
    ) -> None:
        self.root = root
        self.admin_socket = root / "citadel-admin.socket"
        self.control_socket = root / "standin-control.socket"
        for path in (self.admin_socket, self.control_socket):
            if len(str(path).encode()) > UNIX_PATH_MAX:
                raise ValueError(f"{path} is too long for a Unix socket (see socket_root())")
        self.legacy_conf = legacy_conf
        self.move_needs_login = move_needs_login
        self.unit_dir = unit_dir
        self.tcp = tcp
        self.port = 0
        self.lock = threading.RLock()
        self.users = {
            name.lower(): User(name, password, level, number)
            for number, (name, (password, level)) in enumerate((users or {}).items(), 1)
        }
        self.config: dict[str, str] = dict(DEFAULT_CONFIG)
        self.messages: dict[int, Stored] = {}
        self.rooms: dict[str, Room] = {}
        self.next_number = FIRST_NUMBER
        self.environment: dict[str, str] = {}
        self.session_max = SESSION_MAX
        self.listeners: dict[str, int] = {}
        self.restarts = 0
        self.delivered: list[int] = []
        self.errors: list[str] = []  # unexpected exceptions in a session (a stand-in bug)
        self._sessions: set[socket.socket] = set()
        self._sessions_lock = threading.Lock()
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self._session_ids = iter(range(1, 1 << 62))
        self.add_room(QUEUE_ROOM, kind=3, view=VIEW_QUEUE, system=True)
        self.add_room(MAIL_ROOM, kind=4, view=VIEW_MAILBOX)

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> CitadelStandIn:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        """Listen (admin socket, control socket, TCP if asked) and read the environment and the
        listener ports, as citserver does when it starts."""
        self._load()
        self._serve(_UnixServer(self.admin_socket, _CitadelHandler, self, admin=True))
        self.admin_socket.chmod(0o700)  # citserver: "protect the admin socket"
        self._serve(_UnixServer(self.control_socket, _ControlHandler, self, admin=False))
        if self.tcp:
            server = _TCPServer(self)
            self.port = int(server.server_address[1])
            self._serve(server)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
        self.close_sessions()
        for server in self._servers:
            server.server_close()
        for thread in self._threads:
            thread.join(5)
        self._servers.clear()
        self._threads.clear()
        for path in (self.admin_socket, self.control_socket):
            path.unlink(missing_ok=True)

    def _serve(self, server: socketserver.BaseServer) -> None:
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)

    def close_sessions(self) -> None:
        with self._sessions_lock:
            sessions = list(self._sessions)
        for sock in sessions:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def register(self, sock: socket.socket) -> None:
        with self._sessions_lock:
            self._sessions.add(sock)

    def unregister(self, sock: socket.socket) -> None:
        with self._sessions_lock:
            self._sessions.discard(sock)

    def session_id(self) -> int:
        with self._sessions_lock:
            return next(self._session_ids)

    # -- the test API ---------------------------------------------------------------------

    def restart(self) -> None:
        """``systemctl restart citadel``: every session closed, the drop-ins' environment and
        the listener ports read again, ``restarts`` counted."""
        self.close_sessions()
        self._load()
        with self.lock:
            self.restarts += 1

    def _load(self) -> None:
        environment = self._drop_in_environment()
        with self.lock:
            self.environment = environment
            self.session_max = atoi(environment.get("CITSERVER_n_session_max", str(SESSION_MAX)))
            ports = {key: atoi(self.config.get(key, "-1")) for key in LISTENER_KEYS}
            self.listeners = {key: port for key, port in ports.items() if port != -1}

    def _drop_in_environment(self) -> dict[str, str]:
        """``Environment=`` of the ``[Service]`` sections of ``<unit_dir>/citadel.service.d/
        *.conf``, in file-name order (an empty assignment clears the list, as in systemd)."""
        if self.unit_dir is None:
            return {}
        directory = self.unit_dir / f"{UNIT}.service.d"
        found: dict[str, str] = {}
        for path in sorted(directory.glob("*.conf")) if directory.is_dir() else []:
            section = ""
            for raw in path.read_text().splitlines():
                line = raw.strip()
                if line.startswith("["):
                    section = line
                    continue
                key, equals, value = line.partition("=")
                if section == "[Service]" and equals and key.strip() == "Environment":
                    _assign(found, value.strip())
        return found

    def submit(
        self,
        sender: str,
        recipients: list[str],
        subject: str,
        body: str,
        *,
        headers: dict[str, str] | None = None,
        submitted: int | None = None,
        bounceto: str | None = None,
        envelope_from: bool = True,
    ) -> int:
        """Queue an outbound job as citserver does (delivery-list.txt): the message, then its
        instructions, both in the queue room.  The message's number: the job id."""
        when = int(time.time()) if submitted is None else submitted
        date = email.utils.formatdate(when)
        with self.lock:
            head = [
                f"From: {sender}",
                f"To: {', '.join(recipients)}",
                f"Subject: {subject}",
                f"Date: {date}",
                f"Message-ID: <standin-{self.next_number}@{FQDN}>",
                *(f"{name}: {value}" for name, value in (headers or {}).items()),
            ]
            number = self.post(QUEUE_ROOM, _rfc822(head, body), when=when)
            steps = [f"msgid|{number}", f"submitted|{when}", f"bounceto|{bounceto or sender}"]
            if envelope_from:
                steps.append(f"envelope_from|{sender}")
            steps += [f"remote|{rcpt}|0||" for rcpt in recipients]
            head = ["Subject: QMSG", "From: Citadel", f"Date: {date}"]
            head.append(f"Content-type: {DELIVERY_LIST}")
            self.post(QUEUE_ROOM, _rfc822(head, "\n".join(steps)), when=when)
        return number

    def post(self, room: str, text: bytes, *, when: int | None = None) -> int:
        """Save ``text`` (an RFC 822 message) as a new message in ``room``; its number."""
        with self.lock:
            target = self.find_room(room)
            if target is None:
                raise KeyError(room)
            number = self.next_number
            self.next_number += 1
            self.messages[number] = Stored(text, int(time.time()) if when is None else when)
            self.link(target, number)
            return number

    def add_room(
        self, name: str, *, kind: int = 0, view: int = VIEW_BBS, system: bool = False
    ) -> None:
        with self.lock:
            self.rooms[name.lower()] = Room(name, kind, "", view, system, mtime=int(time.time()))

    def room(self, name: str) -> list[int]:
        """The message numbers in ``name`` (KeyError: no such room)."""
        with self.lock:
            found = self.find_room(name)
            if found is None:
                raise KeyError(name)
            return list(found.numbers)

    def room_names(self) -> list[str]:
        with self.lock:
            return [room.name for room in self.rooms.values()]

    def text(self, number: int) -> bytes:
        """The stored text of message ``number`` (KeyError: no such message)."""
        with self.lock:
            return self.messages[number].text

    def run_queue(self) -> list[int]:
        """A queue run: every job with a pending recipient is delivered (both its messages
        leave the queue room) unless ``session_max`` is 0; the job ids delivered."""
        with self.lock:
            if self.session_max <= 0:
                return []
            queue = self.rooms[QUEUE_ROOM.lower()]
            done: list[int] = []
            for number in list(queue.numbers):
                msgid = self._pending_job(number)
                if msgid is None or number not in queue.numbers:
                    continue
                for gone in (number, msgid):
                    if gone in queue.numbers:
                        self.unlink(queue, gone)
                done.append(msgid)
            self.delivered += done
            return done

    def _pending_job(self, number: int) -> int | None:
        """The job id of instructions message ``number`` when a recipient is still pending."""
        headers = parse(self.messages[number].text)
        if content_type(headers) != DELIVERY_LIST:
            return None
        msgid, pending = 0, False
        for raw in headers.body:
            key, _, rest = raw.decode("utf-8", "replace").partition("|")
            if key == "msgid" and not msgid:
                msgid = atoi(rest)
            elif key == "remote":
                pending |= atoi(rest.partition("|")[2]) in PENDING
        return msgid if msgid > 0 and pending else None

    # -- the store (callers hold the lock) ------------------------------------------------

    def find_room(self, name: str) -> Room | None:
        return self.rooms.get(name.lower())

    def link(self, room: Room, number: int) -> None:
        if number not in room.numbers:
            room.numbers.append(number)
            room.numbers.sort()
            self.messages[number].refs += 1
            room.mtime = int(time.time())

    def unlink(self, room: Room, number: int) -> None:
        room.numbers.remove(number)
        stored = self.messages[number]
        stored.refs -= 1
        if stored.refs <= 0:
            del self.messages[number]

    def user(self, name: str) -> User | None:
        return self.users.get(name.lower())

    def note_error(self) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            self.errors.append(traceback.format_exc())


def _assign(found: dict[str, str], value: str) -> None:
    """One ``Environment=`` value: space-separated, optionally quoted, ``NAME=VALUE`` words."""
    try:
        words = shlex.split(value)
    except ValueError:
        return
    if not words:
        found.clear()
    for word in words:
        name, equals, setting = word.partition("=")
        if equals and name:
            found[name] = setting


def _rfc822(head: Sequence[str], body: str) -> bytes:
    body = body.replace("\r\n", "\n")
    if body and not body.endswith("\n"):
        body += "\n"
    return ("\n".join(head) + "\n\n" + body).encode()


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    block_on_close = True

    def __init__(
        self,
        path: Path,
        handler: type[socketserver.BaseRequestHandler],
        standin: CitadelStandIn,
        *,
        admin: bool,
    ) -> None:
        self.standin = standin
        self.admin = admin
        path.unlink(missing_ok=True)
        super().__init__(str(path), handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.standin.note_error()


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, standin: CitadelStandIn) -> None:
        self.standin = standin
        self.admin = False
        super().__init__(("127.0.0.1", 0), _CitadelHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.standin.note_error()


class _ControlHandler(socketserver.StreamRequestHandler):
    """The stand-in systemctl's line protocol: ``RESTART`` -> ``OK``."""

    server: _UnixServer

    def handle(self) -> None:
        while line := self.rfile.readline(1024):
            if line.strip() == b"RESTART":
                self.server.standin.restart()
                self.wfile.write(b"OK\n")
            else:
                self.wfile.write(b"ERR unknown command\n")
