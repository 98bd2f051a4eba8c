"""One session of the stand-in citserver (tests only): the commands as Citadel's
``techdoc/protocol.txt`` describes them; see :mod:`tests.citadel_standin` for each command's
replies and the sections they follow."""

from __future__ import annotations

import email.utils
import socketserver
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from tests.citadel_store import (
    AIDE,
    DELIVERY_LIST,
    FQDN,
    LEGACY_CONF,
    MAIL_ROOM,
    MAX_LINE,
    OPEN_COMMANDS,
    QR2_SYSTEM,
    REV_LEVEL,
    Room,
    Stored,
    User,
    atoi,
    content_type,
    lines_of,
    parse,
)

if TYPE_CHECKING:
    from tests.citadel_standin import _TCPServer, _UnixServer


Reply = str | bytes | None


class _CitadelHandler(socketserver.StreamRequestHandler):
    """One Citadel session (admin socket or TCP)."""

    server: _UnixServer | _TCPServer
    COMMANDS: ClassVar[dict[str, Callable[[_CitadelHandler, str], Reply]]] = {}

    def setup(self) -> None:
        super().setup()
        self.standin = self.server.standin
        self.admin = self.server.admin
        self.user: User | None = None
        self.pending_user: User | None = None
        self.current: str | None = None  # the current room's name
        self.closing = False
        self.number = self.standin.session_id()

    def handle(self) -> None:
        self.standin.register(self.request)
        try:
            kind = "ADMIN CONNECTION ready." if self.admin else "ready."
            self.say(f"200 {self.standin.config.get('c_fqdn', FQDN)} Citadel server {kind}\n")
            while not self.closing and (line := self.read_line()) is not None:
                self.say(self.dispatch(line))
        finally:
            self.standin.unregister(self.request)

    def read_line(self) -> str | None:
        raw = self.rfile.readline(MAX_LINE)
        if not raw:
            return None
        return raw.removesuffix(b"\n").removesuffix(b"\r").decode("utf-8", "replace")

    def read_listing(self) -> list[str]:
        """Client lines up to ``000`` (or the end of the connection)."""
        lines: list[str] = []
        while (line := self.read_line()) is not None and line != "000":
            lines.append(line)
        return lines

    def say(self, reply: Reply) -> None:
        if reply is not None:
            self.wfile.write(reply.encode() if isinstance(reply, str) else reply)

    def dispatch(self, line: str) -> Reply:
        verb, args = line[:4].upper(), line[5:]
        command = self.COMMANDS.get(verb)
        if command is None:
            return "530 Unrecognized or unsupported command.\n"
        if not self.admin and self.user is None and verb not in OPEN_COMMANDS:
            return "520 Not logged in.\n"
        return command(self, args)

    # -- access -----------------------------------------------------------------------------

    @property
    def level(self) -> int:
        return self.user.level if self.user is not None else 0

    @property
    def privileged(self) -> bool:
        """Every access check passes: the admin socket, or a logged-in Aide."""
        return self.admin or self.level >= AIDE

    def may_know(self, room: Room) -> bool:
        return self.privileged or not (room.system or room.kind == 3)

    def room(self) -> Room | None:
        return self.standin.find_room(self.current) if self.current is not None else None

    # -- session commands -------------------------------------------------------------------

    def cmd_noop(self, _: str) -> Reply:
        return "200 ok\n"

    def cmd_echo(self, args: str) -> Reply:
        return f"200 {args}\n"

    def cmd_quit(self, _: str) -> Reply:
        self.closing = True
        return "200 Goodbye.\n"

    def cmd_info(self, _: str) -> Reply:
        config = self.standin.config
        items = [
            str(self.number),
            config["c_nodename"],
            config["c_humannode"],
            config["c_fqdn"],
            "Citadel stand-in (tests)",
            str(REV_LEVEL),
            config["c_site_location"],
            config["c_sysadm"],
            *("0", config["c_moreprompt"], "1", "1", "", "1", "1"),
            config["c_disable_newu"],
            config["c_default_cal_zone"],
            *("0", "0", "0", "0"),
            config["c_enable_fulltext"],
            "standin",
            "0",
            config["c_guest_logins"],
        ]
        return "100 Server info:\n" + "".join(f"{item}\n" for item in items) + "000\n"

    def cmd_user(self, args: str) -> Reply:
        if self.user is not None:
            return "541 Already logged in.\n"
        with self.standin.lock:
            user = self.standin.user(args)
        if user is None:
            return f"570 {args} not found.\n"
        self.pending_user = user
        return f"300 Password required for {user.name}\n"

    def cmd_pass(self, args: str) -> Reply:
        if self.user is not None:
            return "541 Already logged in.\n"
        user = self.pending_user
        if user is None:
            return "542 You must send a name with USER first.\n"
        if args != user.password:
            return "540 Wrong password.\n"
        with self.standin.lock:
            previous = user.last_login or int(time.time())
            user.calls += 1
            user.last_login = int(time.time())
            self.user = user
            fields = (user.name, user.level, user.calls, 0, 0, user.number, previous)
        return "200 " + "|".join(str(f) for f in fields) + "\n"

    # -- rooms ------------------------------------------------------------------------------

    def cmd_goto(self, args: str) -> Reply:
        name, _, rest = args.partition("|")
        password = rest.partition("|")[0]
        with self.standin.lock:
            room = self.standin.find_room(name)
            if room is None or not self.may_know(room):
                return f"572 room '{name}' not found\n"
            if room.kind == 2 and not self.privileged and password != room.password:
                return "540 wrong or missing passwd\n"
            self.current = room.name
            total = len(room.numbers)
            highest = room.numbers[-1] if room.numbers else 0
            fields = (
                *(room.name, total, total, 0, room.flags, highest, 0),
                *(int(room.name == MAIL_ROOM), int(self.level >= AIDE), 0, 0),
                *(room.view, room.view, 0, QR2_SYSTEM if room.system else 0, room.mtime),
            )
        return "200 " + "".join(f"{f}|" for f in fields) + "\n"

    def cmd_cre8(self, args: str) -> Reply:
        parts = [*args.split("|"), "", "", "", "", "", "", ""]
        create, name, kind = atoi(parts[0]), parts[1].strip(), atoi(parts[2])
        refused = self.cre8_refusal(name, kind, atoi(parts[4]))
        if refused:
            return refused
        with self.standin.lock:
            if self.standin.find_room(name) is not None:
                return f"574 '{name}' already exists.\n"
            if not create:
                return f"200 OK to create '{name}'\n"
            room = Room(name, kind, parts[3], atoi(parts[6]), mtime=int(time.time()))
            self.standin.rooms[name.lower()] = room
        return f"200 '{name}' has been created.\n"

    def cre8_refusal(self, name: str, kind: int, floor: int) -> str:
        if not name:
            return "512 Invalid room name.\n"
        if floor != 0:  # only the main floor exists
            return "561 Invalid floor number.\n"
        if not self.privileged:
            return "550 You need higher access to create rooms.\n"
        if not 0 <= kind <= 5:
            return "512 Invalid room type.\n"
        return ""

    # -- messages ---------------------------------------------------------------------------

    def cmd_msgs(self, args: str) -> Reply:
        parts = [*args.split("|"), "", "", ""]
        mode, n = parts[0].strip().upper(), atoi(parts[1])
        if mode == "SEARCH":
            return "530 Full text index is not enabled on this server.\n"
        template: list[str] = []
        if atoi(parts[2]) == 1:
            self.say("800 Send template then receive message list\n")
            template = self.read_listing()
        with self.standin.lock:
            room = self.room()
            numbers = _select(room.numbers if room is not None else [], mode, n)
            numbers = [m for m in numbers if self.matches(m, template)]
            lines = [self.summary(m) if atoi(parts[3]) == 1 else str(m) for m in numbers]
        return "100 \n" + "".join(f"{line}\n" for line in lines) + "000\n"

    def fields_of(self, number: int) -> dict[str, str]:
        """MSG0's header fields of a stored message (those present)."""
        stored = self.standin.messages[number]
        headers = parse(stored.text)
        name, address = email.utils.parseaddr(headers.get("from"))
        found = {
            "msgn": headers.get("message-id").strip("<>"),
            "time": str(stored.time),
            "from": name or address or headers.get("from"),
            "rfca": address,
            "room": self.current or "",
            "rcpt": headers.get("to"),
            "subj": headers.get("subject"),
        }
        return {key: value for key, value in found.items() if value}

    def matches(self, number: int, template: list[str]) -> bool:
        fields = self.fields_of(number)
        for line in template:
            key, _, wanted = line.partition("|")
            if wanted.lower() not in fields.get(key.strip().lower(), "").lower():
                return False
        return True

    def summary(self, number: int) -> str:
        fields = self.fields_of(number)
        node = self.standin.config["c_nodename"]
        parts = (number, fields.get("time", "0"), fields.get("from", ""), node)
        return "|".join(str(p) for p in (*parts, fields.get("rfca", ""), fields.get("subj", "")))

    def locate(self, number: int) -> Stored | str:
        """A message of the current room, or the error reply (the caller holds the lock)."""
        if number not in self.standin.messages:
            return f"575 Can't locate msg {number} on disk\n"
        room = self.room()
        if room is None or number not in room.numbers:
            return f"550 message {number} was not found in this room\n"
        return self.standin.messages[number]

    def cmd_msg0(self, args: str) -> Reply:
        number_text, _, mode_text = args.partition("|")
        number, mode = atoi(number_text), atoi(mode_text.partition("|")[0])
        with self.standin.lock:
            stored = self.locate(number)
            if isinstance(stored, str):
                return stored
            fields = self.fields_of(number) if mode != 2 else {}
        out = ["100 msg:", "type=4", *(f"{key}={value}" for key, value in fields.items())]
        if mode in (0, 2):
            headers = parse(stored.text)
            out.append("text")
            if content_type(headers) == DELIVERY_LIST:
                size = sum(len(line) + 1 for line in headers.body)
                out.append(f"Part 1:  ({DELIVERY_LIST}) ({size} bytes)")
            else:
                out += [line.decode("utf-8", "replace") for line in headers.body]
        return "".join(f"{line}\n" for line in out) + "000\n"

    def cmd_msg2(self, args: str) -> Reply:
        number = atoi(args.partition("|")[0])
        with self.standin.lock:
            stored = self.locate(number)
            if isinstance(stored, str):
                return stored
        body = b"".join(line + b"\r\n" for line in lines_of(stored.text))
        return b"100 msg:\n" + body + b"000\n"

    def cmd_move(self, args: str) -> Reply:
        parts = [*args.split("|"), "", ""]
        numbers = [atoi(n) for n in parts[0].split(",") if n.strip()]
        if not numbers:
            return "200 Nothing to do.\n"
        with self.standin.lock:
            target, source = self.standin.find_room(parts[1]), self.room()
            if target is None:
                return f"572 '{parts[1]}' does not exist.\n"
            if source is not None and source.name == target.name:
                return "574 Source and target rooms are the same.\n"
            may = self.level >= AIDE or (self.admin and not self.standin.move_needs_login)
            if not may:
                return "550 Higher access required.\n"
            copy = atoi(parts[2]) == 1
            present = source.numbers if source is not None else []
            for number in [n for n in dict.fromkeys(numbers) if n in present]:
                self.standin.link(target, number)
                if not copy and source is not None:
                    self.standin.unlink(source, number)
        return f"200 Message(s) {'copied' if copy else 'moved'}.\n"

    def cmd_dele(self, args: str) -> Reply:
        numbers = [atoi(n) for n in args.partition("|")[0].split(",") if n.strip()]
        with self.standin.lock:
            room = self.room()
            if room is not None and not self.privileged and room.name != MAIL_ROOM:
                return "550 Higher access required.\n"
            if not numbers:
                return "200 Nothing to do.\n"
            deleted = 0
            for number in dict.fromkeys(numbers):
                if room is not None and number in room.numbers:
                    self.standin.unlink(room, number)
                    deleted += 1
        if not deleted:
            return "575 Message not found.\n"
        return f"200 {deleted} message{'s' if deleted != 1 else ''} deleted.\n"

    # -- the site configuration -------------------------------------------------------------

    def cmd_conf(self, args: str) -> Reply:
        if not self.privileged:
            return "550 This command requires Admin access.\n"
        parts = args.split("|")
        sub = parts[0].strip().upper()
        if sub == "GET":
            with self.standin.lock:
                lines = [_legacy_value(self.standin.config, key) for key in LEGACY_CONF]
            return "100 Configuration...\n" + "".join(f"{line}\n" for line in lines) + "000\n"
        if sub == "SET":
            self.say("400 Send configuration...\n")
            lines = self.read_listing()
            with self.standin.lock:
                for key, line in zip(LEGACY_CONF, lines, strict=False):
                    if not key.startswith("="):
                        self.standin.config[key] = line
            return None  # current citserver sends nothing after the listing
        if self.standin.legacy_conf or sub not in ("GETVAL", "PUTVAL", "LISTVAL"):
            return "512 Illegal option(s) specified.\n"
        return self.conf_values(sub, parts)

    def conf_values(self, sub: str, parts: list[str]) -> Reply:
        config = self.standin.config
        with self.standin.lock:
            if sub == "LISTVAL":
                listed = "".join(f"{key}|{value}\n" for key, value in config.items())
                return f"100 all configuration variables\n{listed}000\n"
            if sub == "GETVAL":
                value = config.get(parts[1] if len(parts) > 1 else "")
                return "500 |\n" if value is None else f"200 {value}|\n"
            if len(parts) < 3:
                return "500 name and value required\n"
            config[parts[1]] = parts[2]
        return f"200 setting '{parts[1]}' to '{parts[2]}'\n"


_CitadelHandler.COMMANDS = {
    "NOOP": _CitadelHandler.cmd_noop,
    "ECHO": _CitadelHandler.cmd_echo,
    "QUIT": _CitadelHandler.cmd_quit,
    "INFO": _CitadelHandler.cmd_info,
    "USER": _CitadelHandler.cmd_user,
    "PASS": _CitadelHandler.cmd_pass,
    "GOTO": _CitadelHandler.cmd_goto,
    "CRE8": _CitadelHandler.cmd_cre8,
    "MSGS": _CitadelHandler.cmd_msgs,
    "MSG0": _CitadelHandler.cmd_msg0,
    "MSG2": _CitadelHandler.cmd_msg2,
    "MOVE": _CitadelHandler.cmd_move,
    "DELE": _CitadelHandler.cmd_dele,
    "CONF": _CitadelHandler.cmd_conf,
}


def _select(numbers: list[int], mode: str, n: int) -> list[int]:
    """MSGS's modes over a room's (ascending) numbers; nothing is ever marked read here."""
    selected = {
        "OLD": [],
        "FIRST": numbers[: max(n, 0)],
        "LAST": numbers[-n:] if n > 0 else [],
        "GT": [m for m in numbers if m > n],
        "LT": [m for m in numbers if m < n],
    }
    return list(selected.get(mode, numbers))  # ALL, NEW and anything else: all


def _legacy_value(config: dict[str, str], key: str) -> str:
    return key[1:] if key.startswith("=") else config.get(key, "")
