"""A minimal SMTP server that stands for "the outside world" in the real-component mail tests:
it accepts every message and writes each one, with its envelope, as a file, so a test can see
whether anything left the Exim under test.

Run inside the test network namespace::

    python tests/smtpsink.py --port 2525 --dir DIR

It prints ``ready`` (flushed) once it listens on 127.0.0.1.  Each message is written to a
hidden temporary name in DIR and renamed to ``msg-<time>-<n>.eml``, so a reader never sees a
half-written file.  The file starts with ``X-Sink-Envelope-From:`` and one
``X-Sink-Envelope-To:`` line per recipient, then the message as received.  Standard library
only (socketserver and threads).
"""

from __future__ import annotations

import argparse
import itertools
import os
import socketserver
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HOSTNAME = "sink.csm-test.example"
_counter = itertools.count(1)


@dataclass
class Envelope:
    """The sender and recipients given for the message being received."""

    sender: str = ""
    recipients: list[str] = field(default_factory=list)


def _argument(line: str) -> str:
    """The address in ``MAIL FROM:<a>`` / ``RCPT TO:<a>`` (parameters after it dropped)."""
    _, _, rest = line.partition(":")
    rest = rest.strip()
    if rest.startswith("<"):
        return rest[1 : rest.find(">")] if ">" in rest else rest[1:]
    return rest.split(" ", 1)[0]


def store(directory: Path, envelope: Envelope, data: bytes) -> Path:
    """Write one received message atomically (temp name, then rename); its final path."""
    head = f"X-Sink-Envelope-From: <{envelope.sender}>\r\n"
    head += "".join(f"X-Sink-Envelope-To: <{r}>\r\n" for r in envelope.recipients)
    name = f"msg-{time.time_ns()}-{next(_counter)}.eml"
    temporary = directory / f".tmp-{name}"
    with temporary.open("wb") as out:
        out.write(head.encode() + data)
        out.flush()
        os.fsync(out.fileno())
    final = directory / name
    temporary.rename(final)
    return final


class SinkHandler(socketserver.StreamRequestHandler):
    """One SMTP session: every command succeeds and every message is stored."""

    server: SinkServer
    timeout = 60

    def handle(self) -> None:
        """Greet, then answer commands until QUIT or the client hangs up."""
        self.envelope = Envelope()
        self.say("220 " + HOSTNAME + " CSM test sink ready")
        while line := self.rfile.readline():
            if not self.command(line.decode("utf-8", "replace").rstrip("\r\n")):
                return

    def say(self, reply: str) -> None:
        """Send one reply line."""
        self.wfile.write(reply.encode() + b"\r\n")
        self.wfile.flush()

    def command(self, line: str) -> bool:
        """Answer one command line; False after QUIT."""
        verb = line[:4].upper()
        if verb == "QUIT":
            self.say("221 bye")
            return False
        if verb == "EHLO":
            self.say(f"250-{HOSTNAME}\r\n250 8BITMIME")
        elif verb == "MAIL":
            self.envelope = Envelope(_argument(line))
            self.say("250 OK")
        elif verb == "RCPT":
            self.envelope.recipients.append(_argument(line))
            self.say("250 Accepted")
        elif verb == "DATA":
            self.say("354 send the message, end with <CRLF>.<CRLF>")
            path = store(self.server.directory, self.envelope, self.data())
            self.envelope = Envelope()
            self.say(f"250 OK id={path.name}")
        else:  # HELO, RSET, NOOP, anything else
            self.say("250 OK")
        return True

    def data(self) -> bytes:
        """The message up to the lone dot, with dot-stuffing undone."""
        lines: list[bytes] = []
        while (line := self.rfile.readline()) and line.rstrip(b"\r\n") != b".":
            lines.append(line[1:] if line.startswith(b".") else line)
        return b"".join(lines)


class SinkServer(socketserver.ThreadingTCPServer):
    """The listening sink: a thread per connection, messages stored in ``directory``."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int, directory: Path) -> None:
        self.directory = directory
        super().__init__(("127.0.0.1", port), SinkHandler)


def main(argv: Sequence[str] | None = None) -> int:
    """Listen on 127.0.0.1:PORT, say ``ready``, and serve until killed."""
    parser = argparse.ArgumentParser(description="SMTP sink for CSM's mail tests")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    with SinkServer(args.port, args.dir) as server:
        print("ready", flush=True)
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
