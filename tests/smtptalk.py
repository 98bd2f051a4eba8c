"""A scripted SMTP client for the real-component mail tests: it talks to a server (the Exim
daemon in a test network namespace) and reports every reply as one JSON object, so a test can
assert on codes and texts instead of parsing a conversation.

Run inside the namespace (``Namespace.run([sys.executable, "tests/smtptalk.py", ...])``)::

    python tests/smtptalk.py --port 587 --from box@csm-test.example --to x@example.org \\
        --auth box@csm-test.example:secret

prints ``{"connected", "error", "banner_code", "banner", "steps", "accepted", "queue_id"}``.
A refused, reset or timed-out connection is reported in that object (``connected`` false,
``error`` "refused"/"reset"/"timeout"; "closed" when the server hangs up mid-conversation),
never as a traceback, and the exit status is 0.  Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from email.utils import formatdate, make_msgid
from typing import Any

QUEUE_ID = re.compile(r"\bid=(\S+)")


class ClosedError(Exception):
    """The server closed the connection before a complete reply."""


@dataclass
class Step:
    """One command sent and the server's reply to it."""

    command: str
    code: int
    reply: str


@dataclass
class Outcome:
    """What happened in one SMTP conversation: the JSON object the script prints."""

    connected: bool = False
    error: str = ""
    banner_code: int | None = None
    banner: str = ""
    steps: list[Step] = field(default_factory=list)
    accepted: bool = False
    queue_id: str = ""

    def to_json(self) -> dict[str, Any]:
        """The outcome as plain JSON data."""
        return asdict(self)


@dataclass(frozen=True)
class Submission:
    """The message to send; no recipients means connect, read the banner and QUIT."""

    sender: str = ""
    recipients: tuple[str, ...] = ()
    auth: tuple[str, str] | None = None
    subject: str = "CSM test message"


class Conversation:
    """A line-oriented SMTP connection that records each command and its reply."""

    def __init__(self, sock: socket.socket, outcome: Outcome) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")
        self.outcome = outcome

    def reply(self) -> tuple[int, str]:
        """The next (possibly multi-line) reply: its code and its text lines joined by \\n."""
        lines: list[str] = []
        while True:
            raw = self.reader.readline()
            if not raw.endswith(b"\n"):
                raise ClosedError
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return _code(line), "\n".join(lines)

    def send(self, command: str, *, shown: str | None = None) -> Step:
        """Send one command line, record it (as ``shown`` if given) with its reply."""
        self.sock.sendall(command.encode() + b"\r\n")
        code, text = self.reply()
        step = Step(shown if shown is not None else command, code, text)
        self.outcome.steps.append(step)
        return step

    def send_data(self, message: bytes) -> Step:
        """Send a message body (already dot-stuffed, CRLF lines) and its end-of-data dot."""
        self.sock.sendall(message + b".\r\n")
        code, text = self.reply()
        step = Step(".", code, text)
        self.outcome.steps.append(step)
        return step


def _code(line: str) -> int:
    """The three-digit code that starts a reply line (0 when there is none)."""
    return int(line[:3]) if line[:3].isdigit() else 0


def message_bytes(submission: Submission) -> bytes:
    """A small RFC 5322 message for the submission, dot-stuffed with CRLF line ends."""
    lines = [
        f"From: <{submission.sender}>",
        f"To: {', '.join(f'<{r}>' for r in submission.recipients)}",
        f"Subject: {submission.subject}",
        f"Date: {formatdate(localtime=True)}",
        f"Message-ID: {make_msgid(domain='csm-test.example')}",
        "",
        "A message sent by CSM's SMTP test client.",
        ".A line that starts with a dot.",
    ]
    stuffed = ["." + line if line.startswith(".") else line for line in lines]
    return "".join(line + "\r\n" for line in stuffed).encode()


def _auth_plain(user: str, password: str) -> str:
    """The AUTH PLAIN initial response for the credentials."""
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def _submit(conv: Conversation, submission: Submission) -> None:
    """EHLO, AUTH, MAIL, RCPT, DATA, stopping at the first reply that is not a success."""
    if conv.send("EHLO client.csm-test.example").code != 250:
        return
    if submission.auth is not None:
        user, password = submission.auth
        command = f"AUTH PLAIN {_auth_plain(user, password)}"
        if conv.send(command, shown=f"AUTH PLAIN <{user}>").code != 235:
            return
    if conv.send(f"MAIL FROM:<{submission.sender}>").code != 250:
        return
    for recipient in submission.recipients:
        if conv.send(f"RCPT TO:<{recipient}>").code not in (250, 251):
            return
    if conv.send("DATA").code != 354:
        return
    done = conv.send_data(message_bytes(submission))
    conv.outcome.accepted = done.code == 250
    found = QUEUE_ID.search(done.reply)
    conv.outcome.queue_id = found.group(1) if found else ""


def _converse(conv: Conversation, submission: Submission) -> None:
    """Read the banner; unless it refuses service, submit (if asked) and QUIT."""
    outcome = conv.outcome
    outcome.banner_code, outcome.banner = conv.reply()
    if outcome.banner_code != 220:
        return  # e.g. 421: the server closes the connection itself
    if submission.recipients:
        _submit(conv, submission)
    conv.send("QUIT")


def talk(
    host: str,
    port: int,
    submission: Submission | None = None,
    *,
    timeout: float = 10.0,
    source: str | None = None,
) -> Outcome:
    """Hold one SMTP conversation with ``host:port``, from the local address ``source`` if
    given (no submission: banner and QUIT only); every failure is reported in the result,
    never raised."""
    outcome = Outcome()
    submission = submission or Submission()
    bind = (source, 0) if source else None
    try:
        with socket.create_connection((host, port), timeout, bind) as sock:
            outcome.connected = True
            _converse(Conversation(sock, outcome), submission)
    except ConnectionRefusedError:
        outcome.error = "refused"
    except (ConnectionResetError, BrokenPipeError):
        outcome.error = "reset"
    except TimeoutError:
        outcome.error = "timeout"
    except ClosedError:
        outcome.error = "closed"
    except OSError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


def _credentials(value: str) -> tuple[str, str]:
    """``USER:PASS`` split at the last colon (a user name may hold none; a password may)."""
    user, sep, password = value.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected USER:PASS")
    return user, password


def _parser() -> argparse.ArgumentParser:
    """The command line: where to connect and what to send."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=25)
    parser.add_argument("--source", help="connect from this local address")
    parser.add_argument("--from", dest="sender", default="box@csm-test.example")
    parser.add_argument("--to", dest="recipients", action="append", default=[])
    parser.add_argument("--auth", type=_credentials, help="USER:PASS, sent as AUTH PLAIN")
    parser.add_argument("--subject", default="CSM test message")
    parser.add_argument("--connect-only", action="store_true", help="read the banner and QUIT")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument(
        "--retry-for",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="while the connection is refused, try again for up to this long (a server starting)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one conversation as the command line asks; print its JSON outcome."""
    args = _parser().parse_args(argv)
    recipients = () if args.connect_only else tuple(args.recipients)
    submission = Submission(args.sender, recipients, args.auth, args.subject)
    deadline = time.monotonic() + args.retry_for
    outcome = talk(args.host, args.port, submission, timeout=args.timeout, source=args.source)
    while outcome.error == "refused" and time.monotonic() < deadline:
        time.sleep(0.05)
        outcome = talk(args.host, args.port, submission, timeout=args.timeout, source=args.source)
    json.dump(outcome.to_json(), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
