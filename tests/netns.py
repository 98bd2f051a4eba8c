"""Real-component mail test harness: a throwaway network namespace, a real Exim daemon
listening on its SMTP ports inside it, and an SMTP sink standing for the outside world, so a
test can submit mail and see what Exim accepted, froze, delivered locally or sent out.

Needs root, ``ip`` (iproute2) and Exim.  Leaving the context managers stops every process
and deletes the namespace.

Exim's directory cannot live in pytest's ``tmp_path``: Debian's Exim has root on its fixed
``never_users`` list, so its transports (the SMTP one included) refuse to run as root and
``exim_user`` must be an unprivileged user, who cannot reach the root-only (0700)
``/tmp/pytest-of-root/...`` tree.  :func:`exim_root` makes a directory that user can reach
and moves it into the test's ``tmp_path`` when the test is over (nothing is left in /tmp,
the logs stay for a failed test).  And because Exim drops root when it re-executes itself
with ``-C`` as a user other than root, deliveries started by a receiving process run wholly
as ``exim_user``: the spool, log and mailbox directories belong to that user.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

TESTS = Path(__file__).resolve().parent
SMTPTALK = TESTS / "smtptalk.py"
SMTPSINK = TESTS / "smtpsink.py"
SNIPPETS = TESTS.parent / "src" / "csm" / "config" / "exim"
SMTP_PORTS = (25, 465, 587)
SINK_PORT = 2525  # the outside world
REMOTE_HOST = "192.0.2.25"  # TEST-NET-1: a client "on the internet" (mail_world puts it on lo)
MAILBOXES = ("box", "user", "postmaster", "abuse")  # local parts with a mailbox file
EXIM_USERS = ("Debian-exim", "exim", "mailnull", "mail")  # whichever the host has, in order
TEST_USER = "box@csm-test.example"
TEST_PASSWORD = "secret"  # the test authenticator's fixed credentials
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run ``ip ARGS`` (outside any namespace)."""
    return subprocess.run(["ip", *args], capture_output=True, timeout=30, check=check)


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Terminate every process still running, then kill what is left after STOP_GRACE."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Namespace:
    """A named network namespace ``csm-<8 hex>`` with ``lo`` up, deleted on exit together
    with every process started in it through :meth:`popen`."""

    def __init__(self) -> None:
        self.name = f"csm-{secrets.token_hex(4)}"
        self._processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Namespace:
        _ip("netns", "add", self.name)
        try:
            _ip("-n", self.name, "link", "set", "lo", "up")
        except BaseException:
            _ip("netns", "del", self.name, check=False)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the tracked processes, then delete the namespace."""
        try:
            _stop(self._processes)
        finally:
            _ip("netns", "del", self.name, check=False)

    def add_address(self, address: str) -> None:
        """Give ``lo`` one more address (``a.b.c.d/32``): a client can connect from it, as
        another server on the internet would."""
        _ip("-n", self.name, "addr", "add", address, "dev", "lo")

    def argv(self, cmd: Sequence[str]) -> list[str]:
        """``cmd`` as run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(
        self,
        cmd: Sequence[str],
        *,
        input: bytes | None = None,
        timeout: float = 30,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ``cmd`` in the namespace to completion, output captured.  With ``check``, a
        failure raises CalledProcessError with the command's stderr attached as a note."""
        done = subprocess.run(
            self.argv(cmd), input=input, capture_output=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            failed = subprocess.CalledProcessError(
                done.returncode, done.args, done.stdout, done.stderr
            )
            failed.add_note(done.stderr.decode(errors="replace"))
            raise failed
        return done

    def popen(self, cmd: Sequence[str], **kw: Any) -> subprocess.Popen[bytes]:
        """Start ``cmd`` in the namespace (``ip netns exec`` execs it: same pid); it is
        terminated, then killed, when the namespace is closed."""
        process: subprocess.Popen[bytes] = subprocess.Popen(self.argv(cmd), **kw)
        self._processes.append(process)
        return process

    def smtp(
        self,
        port: int,
        *,
        sender: str = TEST_USER,
        to: Sequence[str] = (),
        auth: tuple[str, str] | None = None,
        subject: str = "CSM test message",
        source: str | None = None,
        retry_for: float = 0.0,
    ) -> dict[str, Any]:
        """One conversation with 127.0.0.1:``port`` from inside the namespace through
        ``tests/smtptalk.py``, from the local address ``source`` if given (no recipients:
        banner and QUIT only); its JSON outcome."""
        cmd = [sys.executable, str(SMTPTALK), "--port", str(port), "--from", sender]
        cmd += ["--subject", subject, "--retry-for", str(retry_for)]
        if source is not None:
            cmd += ["--source", source]
        for recipient in to:
            cmd += ["--to", recipient]
        if auth is not None:
            cmd += ["--auth", f"{auth[0]}:{auth[1]}"]
        if not to:
            cmd.append("--connect-only")
        outcome: dict[str, Any] = json.loads(self.run(cmd, timeout=retry_for + 30).stdout)
        return outcome


def namespaces_work() -> bool:
    """Whether this machine lets us create (and delete) a network namespace: root, iproute2."""
    if shutil.which("ip") is None:
        return False
    try:
        with Namespace():
            return True
    except (OSError, subprocess.SubprocessError):
        return False


def exim_user() -> str:
    """The unprivileged user Exim runs as on this host (Debian: Debian-exim)."""
    for name in EXIM_USERS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise LookupError(f"none of the Exim users {', '.join(EXIM_USERS)} exists")


def _reachable(path: Path) -> bool:
    """Whether every directory from / down to ``path`` can be searched by anyone."""
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in (path, *path.parents))


@contextmanager
def exim_root(keep: Path) -> Iterator[Path]:
    """A fresh root-owned 0711 directory the Exim user can reach (under /tmp), moved to
    ``keep`` (which must not exist yet; normally in ``tmp_path``) on exit."""
    real = Path(tempfile.mkdtemp(prefix="csm-exim-", dir="/tmp"))
    try:
        real.chmod(0o711)
        if not _reachable(real):
            raise PermissionError(f"{real} cannot be reached by the Exim user")
        yield real
    finally:
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(real, keep)


def exim_daemon_config(
    root: Path,
    *,
    flag_dir: Path,
    sink_port: int,
    snippets: Path = SNIPPETS,
    with_emergency: bool = True,
    user: str | None = None,
) -> str:
    """Exim runtime configuration (for ``-C``) for a daemon in a test namespace: plain SMTP on
    25, 465 and 587 at 127.0.0.1 and ::1, AUTH PLAIN with TEST_USER/TEST_PASSWORD, relay for
    authenticated clients and localhost, remote domains delivered to the sink on
    ``sink_port``, MAILBOXES at local domains appended to ``root/mailboxes/<local part>``;
    with ``with_emergency``, CSM's shipped emergency-stop snippets from ``snippets`` included
    where their comments say, reading their flag files in ``flag_dir``.  Exim runs as
    ``user`` (default :func:`exim_user`)."""
    user = user or exim_user()
    return "\n".join(
        [
            _main_section(root, flag_dir, user),
            _acl_section(snippets, with_emergency),
            _routers_section(snippets, with_emergency),
            _transports_section(root, sink_port, user),
            _RETRY_AND_AUTH,
        ]
    )


def _main_section(root: Path, flag_dir: Path, user: str) -> str:
    """The main section: identity, paths under ``root``, listeners, ACL names."""
    ports = " : ".join(map(str, SMTP_PORTS))
    return f"""# Exim runtime config for CSM's real-component mail tests (tests/netns.py).
CSM_MAIL_FLAGS = {flag_dir}

primary_hostname = mail.csm-test.example
qualify_domain = csm-test.example
domainlist local_domains = @ : localhost : csm-test.example
localpartlist mailboxes = {" : ".join(MAILBOXES)}
hostlist relay_from_hosts = <; 127.0.0.1 ; ::1
exim_user = {user}
exim_group = {pwd.getpwnam(user).pw_gid}
spool_directory = {root}/spool
split_spool_directory = true
log_file_path = {root}/log/%slog
pid_file_path = {root}/run/exim.pid
keep_environment =
daemon_smtp_ports = {ports}
local_interfaces = <; 127.0.0.1 ; ::1
tls_advertise_hosts =
queue_only = false
auth_advertise_hosts = *
acl_smtp_connect = acl_check_connect
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data
acl_not_smtp = acl_check_not_smtp
"""


def _acl_section(snippets: Path, with_emergency: bool) -> str:
    """The ACLs, each starting with its emergency snippet when asked."""
    inbound = f".include {snippets}/emergency-inbound.acl\n" if with_emergency else ""
    outbound = f".include {snippets}/emergency-outbound.acl\n" if with_emergency else ""
    return f"""begin acl

acl_check_connect:
{inbound}  accept

acl_check_rcpt:
  accept  domains       = +local_domains
  accept  authenticated = *
  accept  hosts         = +relay_from_hosts
  deny    message       = relay not permitted

acl_check_data:
{outbound}  accept

acl_check_not_smtp:
{outbound}  accept
"""


def _routers_section(snippets: Path, with_emergency: bool) -> str:
    """The routers: the emergency router first (when asked), the sink, the mailboxes."""
    emergency = f".include {snippets}/emergency-router.conf\n" if with_emergency else ""
    return f"""begin routers

{emergency}
# 127.0.0.1 is one of Exim's own interfaces: `self = send` lets it route there anyway.
to_sink:
  driver      = manualroute
  domains     = ! +local_domains
  route_list  = * 127.0.0.1
  self        = send
  transport   = sink_smtp

# A list item (not a pattern) matched: $local_part_data is untainted and may name a file.
to_mailbox:
  driver      = accept
  domains     = +local_domains
  local_parts = +mailboxes
  transport   = mailbox_file
"""


def _transports_section(root: Path, sink_port: int, user: str) -> str:
    """SMTP to the sink's port (allowed to deliver to localhost), and the mailbox files."""
    return f"""begin transports

sink_smtp:
  driver          = smtp
  port            = {sink_port}
  allow_localhost

mailbox_file:
  driver          = appendfile
  file            = {root}/mailboxes/$local_part_data
  user            = {user}
  delivery_date_add
  envelope_to_add
  return_path_add
"""


_CREDENTIALS_OK = "${if and{{eq{$auth2}{" + TEST_USER + "}}{eq{$auth3}{" + TEST_PASSWORD + "}}}}"
_RETRY_AND_AUTH = """begin retry

# Deferred deliveries are retried (every minute for an hour), never bounced at once.
*   *   F,1h,1m

begin authenticators

plain:
  driver                     = plaintext
  public_name                = PLAIN
  server_advertise_condition = true
  server_condition           = CREDENTIALS_OK
  server_set_id              = $auth2
""".replace("CREDENTIALS_OK", _CREDENTIALS_OK)


def find_exim() -> str:
    """The Exim executable: ``exim4`` (Debian) or ``exim``."""
    found = shutil.which("exim4") or shutil.which("exim", path="/usr/sbin:/usr/bin")
    if found is None:
        raise FileNotFoundError("exim4 is not installed")
    return found


class EximDaemon:
    """The real Exim daemon (``-bdf``: in the foreground, so it is our child) listening on
    SMTP_PORTS inside ``ns``, with ``config`` written to ``root/exim.conf`` and its spool,
    logs and mailboxes under ``root`` (a directory from :func:`exim_root`); stopped on exit."""

    def __init__(
        self,
        ns: Namespace,
        root: Path,
        config: str,
        *,
        exim_bin: str | None = None,
        user: str | None = None,
    ) -> None:
        self.ns = ns
        self.root = root
        self.config_text = config
        self.exim_bin = exim_bin or find_exim()
        self.user = user or exim_user()
        self.config = root / "exim.conf"
        self.pid_file = root / "run" / "exim.pid"
        self.mainlog = root / "log" / "mainlog"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EximDaemon:
        self.prepare()
        self.exim("-bV")  # a configuration error, shown plainly, before any daemon starts
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def prepare(self) -> None:
        """Write the configuration; make the spool, log, mailbox and pid file directories, the
        Exim user's own."""
        if not _reachable(self.root):
            raise PermissionError(f"{self.root} cannot be reached by {self.user}")
        self.config.write_text(self.config_text)
        self.config.chmod(0o644)
        account = pwd.getpwnam(self.user)
        for sub in ("spool", "log", "mailboxes", "run"):
            path = self.root / sub
            path.mkdir(mode=0o750, exist_ok=True)
            os.chown(path, account.pw_uid, account.pw_gid)

    def exim_argv(self, *args: str) -> list[str]:
        """``exim -C CONFIG ARGS``.  Queue commands that only read or mark the spool (``-bp``,
        ``-bpc``, ``-Mvh``, ``-Mf``, ``-Mt``) need no namespace; anything that delivers
        (``-M``, ``-q...``, ``-odi``) must run in it (``ns.run(exim_argv(...))``), or it would
        connect to the host's own port SINK_PORT."""
        return [self.exim_bin, "-C", str(self.config), *args]

    def exim(self, *args: str, input: bytes | None = None) -> str:
        """Run ``exim -C CONFIG ARGS`` to success; its stdout.  Failure raises, with output."""
        done = subprocess.run(
            self.exim_argv(*args), input=input, capture_output=True, timeout=30, check=False
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise RuntimeError(f"exim {' '.join(args)} exited {done.returncode}: {output}")
        return done.stdout.decode(errors="replace")

    def start(self) -> None:
        """Start the daemon (queue runner every 10 s) and wait until it answers on port 25.

        Once listening, the daemon runs as the Exim user, and on SIGHUP it re-executes itself
        as that user (privilege dropped: ``-C``), so in this namespace ports below 1024 are
        opened to everyone and the pid file lives in a directory of the Exim user."""
        self.ns.run(["sysctl", "-qw", "net.ipv4.ip_unprivileged_port_start=0"])
        ports = ":".join(map(str, SMTP_PORTS))
        argv = self.exim_argv("-bdf", "-q10s", "-oX", ports, "-oP", str(self.pid_file))
        with (self.root / "daemon.stderr").open("ab") as stderr:
            self.process = self.ns.popen(argv, stdout=subprocess.DEVNULL, stderr=stderr)
        self.wait_ready()

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until port 25 accepts a connection; raise (with Exim's logs) if it never does."""
        outcome = self.ns.smtp(25, retry_for=timeout)
        if not outcome["connected"]:
            raise RuntimeError(f"Exim is not listening ({outcome['error']}): {self.logs()}")

    def log(self) -> str:
        """The main log so far."""
        try:
            return self.mainlog.read_text()
        except FileNotFoundError:
            return ""

    def logs(self) -> str:
        """The daemon's stderr, main and panic logs: for error messages."""
        found = []
        for path in (self.root / "daemon.stderr", self.mainlog, self.mainlog.parent / "paniclog"):
            with contextlib.suppress(OSError):
                found.append(f"--- {path.name}\n{path.read_text()}")
        return "\n".join(found)

    def mailbox(self, local_part: str) -> str:
        """The mailbox file of ``local_part`` (one of MAILBOXES): "" while nothing arrived."""
        try:
            return (self.root / "mailboxes" / local_part).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def hup(self, timeout: float = 10.0) -> None:
        """SIGHUP the daemon (it re-reads its configuration by re-executing itself, same pid)
        and wait until the new daemon has logged its start and listens."""
        started = self.log().count(" daemon started: ")
        self._running().send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while self.log().count(" daemon started: ") <= started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Exim did not restart after SIGHUP: {self.logs()}")
            time.sleep(0.05)
        self.wait_ready(max(0.0, deadline - time.monotonic()))

    def _running(self) -> subprocess.Popen[bytes]:
        """The running daemon's process."""
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"the Exim daemon is not running: {self.logs()}")
        return self.process

    def stop(self) -> None:
        """Stop the daemon: SIGTERM, SIGKILL after STOP_GRACE."""
        if self.process is not None:
            _stop([self.process])
            self.process = None


class SmtpSink:
    """``tests/smtpsink.py`` listening on 127.0.0.1:``port`` inside ``ns``: the outside world,
    storing every message it receives as a file in ``directory``."""

    def __init__(self, ns: Namespace, directory: Path, port: int = SINK_PORT) -> None:
        self.ns = ns
        self.directory = directory
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SmtpSink:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        cmd = [sys.executable, str(SMTPSINK), "--port", str(self.port)]
        cmd += ["--dir", str(self.directory)]
        errors = self.directory.with_name(self.directory.name + ".stderr")
        with errors.open("ab") as stderr:
            self.process = self.ns.popen(cmd, stdout=subprocess.PIPE, stderr=stderr)
        self._wait_ready()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.process is not None:
            _stop([self.process])
            if self.process.stdout is not None:
                self.process.stdout.close()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        """Wait for the sink's ``ready`` line."""
        assert self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if selector.select(timeout) and self.process.stdout.readline() == b"ready\n":
                return
        raise RuntimeError(f"the SMTP sink on port {self.port} did not start")

    def messages(self) -> list[str]:
        """The messages received so far, oldest first, each with its envelope lines."""
        files = sorted(self.directory.glob("msg-*.eml"), key=lambda p: p.name)
        return [path.read_text(errors="replace") for path in files]

    def wait_messages(self, count: int = 1, timeout: float = 10.0) -> list[str]:
        """The messages once there are at least ``count`` (fewer if ``timeout`` passes)."""
        deadline = time.monotonic() + timeout
        while len(found := self.messages()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return found


@dataclass
class MailWorld:
    """A namespace with an Exim daemon running CSM's snippets and the outside world's sink."""

    ns: Namespace
    exim: EximDaemon
    sink: SmtpSink
    flag_dir: Path


@contextmanager
def mail_world(
    keep: Path, *, with_emergency: bool = True, exim_bin: str | None = None
) -> Iterator[MailWorld]:
    """Everything a test needs: namespace (with REMOTE_HOST on ``lo``), sink (in
    ``keep/sink``), then the Exim daemon in an :func:`exim_root` (moved to ``keep/exim`` on
    exit) with CSM's snippets reading their flag files in ``<root>/flags``; all stopped and
    removed on exit."""
    with exim_root(keep / "exim") as root:
        flag_dir = root / "flags"
        flag_dir.mkdir(mode=0o755)
        config = exim_daemon_config(
            root, flag_dir=flag_dir, sink_port=SINK_PORT, with_emergency=with_emergency
        )
        with (
            Namespace() as ns,
            SmtpSink(ns, keep / "sink", SINK_PORT) as sink,
            EximDaemon(ns, root, config, exim_bin=exim_bin) as exim,
        ):
            ns.add_address(f"{REMOTE_HOST}/32")
            yield MailWorld(ns, exim, sink, flag_dir)
