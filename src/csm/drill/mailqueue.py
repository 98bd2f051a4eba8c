"""A drill host's Exim queue, filled through the real ``exim`` with a deterministic mix of mail.

Ordinary mail, conversation replies, a customer's invoices and website contact-form leads sit
next to the incidents the runbook is for: a stolen mailbox sending spam from many networks, a PHP
mailer in ``wp-content/uploads`` of the last account, frozen bounces and backscatter.  Content
comes from ``random.Random(seed)``; Exim picks the message ids.

Every message is injected as batched SMTP (``exim -bS``).  The ``-oM*`` options (protocol, client
address and name, authenticator and id, ident) apply to a whole batch, so messages are grouped by
client; batches run in parallel, because Exim waits for the next id tick (5 ms) between two
messages of one process.  One category at a time, so that the spool's new ``-H`` files are its ids.

The one simulated detail: PHP on a cPanel host runs as the account's user, and Exim records the
caller on line 2 of a message's ``-H`` file.  The drill has no system users and injects as root,
so line 2 of each ``php_spam`` message's ``-H`` file is rewritten from ``root 0 0`` to
``<user> <uid> <uid>`` (temp file, fsync, rename; mode and owner kept).  Nothing else in the
spool is written here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import TypeVar

from csm import atomic
from csm.drill.build import EXIM_CONFIG, EXIM_SPOOL, HOSTNAME, DrillHost
from csm.drill.maillog import SPAM_NETS
from csm.drill.plan import Account
from csm.errors import CommandError
from csm.host import run
from csm.mailqueue import spoolfiles

BASE = {
    "normal": 60,
    "replies": 40,
    "invoices": 40,
    "forms": 10,
    "php_spam": 100,
    "stolen_spam": 120,
    "frozen_bounces": 20,
    "backscatter": 10,
}
CHUNK = 100  # messages per exim process: about half a second each
WORKERS = 12  # exim processes at once (they mostly sleep for the id tick)
TIMEOUT = 120
SCRIPT = "wp-content/uploads/2026/11/mailer.php"
EXTERNAL = ("example.com", "example.net", "example.org", "mail.example", "inbox.example")
SUBJECTS = (
    "Quarterly report",
    "Meeting on Thursday",
    "Updated price list",
    "Contract draft",
    "Photos from the site visit",
    "Holiday schedule",
    "Question about your order",
    "Delivery next week",
    "Minutes of today's call",
    "Proposal for the new website",
)
SPAM_SUBJECTS = (
    "Your account has been suspended",
    "Unclaimed parcel: action required",
    "You have won a $500 gift card",
    "Verify your mailbox now",
    "Final notice: invoice overdue",
    "Cheap meds, no prescription",
    "Your password expires today",
    "Payment refused: update card",
)
SPOOFED = (
    "paypa1-verify.example",
    "appleid-check.example",
    "dhl-tracking.example",
    "bank-secure.example",
    "microsoft-alerts.example",
)
REPLY_TO = ("payout-desk.example", "claims-center.example", "refund-dept.example")
BOUNCE_BODY = (
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  {rcpt}\n    host mx.example.com [198.51.100.9]\n"
    "    SMTP error from remote mail server after RCPT TO:<{rcpt}>:\n"
    "    550 5.1.1 User unknown\n"
)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QueuePlan:
    ids: dict[str, tuple[str, ...]]  # category -> Exim message ids created, in arrival order
    stolen: str  # the stolen mailbox address
    php_account: str  # the cPanel user whose PHP script spams
    php_script: str  # the X-PHP-Script value's "host/path" part

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.ids.values())


@dataclass(frozen=True, slots=True)
class _Message:
    sender: str  # the envelope sender; "" for a bounce
    rcpts: tuple[str, ...]
    headers: tuple[str, ...]
    body: str

    def bsmtp(self) -> str:
        body = ("." + line if line.startswith(".") else line for line in self.body.splitlines())
        lines = (f"MAIL FROM:<{self.sender}>", *(f"RCPT TO:<{r}>" for r in self.rcpts), "DATA")
        return "\n".join((*lines, *self.headers, "", *body, ".")) + "\n"


Options = tuple[str, ...]  # the -oM* options of one batch
Item = tuple[Options, _Message]


def build_queue(host: DrillHost, seed: int, *, scale: int = 1) -> QueuePlan:
    """Queue ``scale`` times the base mix on ``host``; returns each category's new ids."""
    planner = _Planner(host.accounts, random.Random(seed))  # noqa: S311 - a simulation
    makers: dict[str, Callable[[int], list[Item]]] = {
        "normal": planner.normal,
        "replies": planner.replies,
        "invoices": planner.invoices,
        "forms": planner.forms,
        "php_spam": planner.php_spam,
        "stolen_spam": planner.stolen,
        "frozen_bounces": planner.bounces,
        "backscatter": planner.bounces,
    }
    exim = [host.exim_bin, "-C", str(host.root / EXIM_CONFIG.lstrip("/"))]
    spool = host.root / EXIM_SPOOL.lstrip("/")
    known = _spool_ids(spool)
    ids = {name: _inject(exim, spool, makers[name](n * scale), known) for name, n in BASE.items()}
    for chunk in _chunks(ids["frozen_bounces"], 500):
        _run([*exim, "-Mf", *chunk])
    php = host.accounts[-1]
    _as_user(spool, ids["php_spam"], php)
    return QueuePlan(ids, planner.box, php.user, f"{php.domain}/{SCRIPT}")


class _Planner:
    def __init__(self, accounts: Sequence[Account], rng: random.Random) -> None:
        self.accounts, self.rng = accounts, rng
        self.date = formatdate(usegmt=True)
        self.box = accounts[0].mailboxes[0].address
        boxes = [m.address for a in accounts for m in a.mailboxes if m.address != self.box]
        self.clients = [
            (box, self._client(box, f"192.0.2.{20 + i}")) for i, box in enumerate(boxes)
        ]
        bots = [f"{net}.{n}" for net in SPAM_NETS for n in rng.sample(range(2, 250), 6)]
        self.bots = [
            self._client(self.box, ip, f"{ip.replace('.', '-')}.dyn.example") for ip in bots
        ]

    def normal(self, count: int) -> list[Item]:
        out: list[Item] = []
        for _ in range(count):
            box, client = self._pick(self.clients)
            out.append((client, self._mail(box, box, self._rcpts(1, 3), self._pick(SUBJECTS))))
        return out

    def replies(self, count: int) -> list[Item]:
        out: list[Item] = []
        for _ in range(count):
            box, client = self._pick(self.clients)
            rcpts = self._rcpts(1, 3)
            peer = rcpts[0].split("@")[1]
            first, last = self._msgid(peer), self._msgid(peer)
            thread = (f"In-Reply-To: {last}", f"References: {first} {last}")
            subject = "Re: " + self._pick(SUBJECTS)
            out.append((client, self._mail(box, box, rcpts, subject, thread)))
        return out

    def invoices(self, count: int) -> list[Item]:
        account = self.accounts[1]
        box = f"billing@{account.domain}"
        client = self._client(box, "192.0.2.77")
        first = self.rng.randrange(10_000, 90_000 - count)
        return [
            (
                client,
                self._mail(
                    box,
                    box,
                    self._rcpts(1, 1),
                    f"Invoice #{first + n:05d} from {account.user.title()}, due in 30 days",
                ),
            )
            for n in range(count)
        ]

    def forms(self, count: int) -> list[Item]:
        out: list[Item] = []
        for _ in range(count):
            acct = self._pick(self.accounts)
            extra = (f"X-PHP-Script: {acct.domain}/index.php for {self._ip()}",)
            frm, to = f"WordPress <wordpress@{acct.domain}>", (f"info@{acct.domain}",)
            subject = "New contact form submission"
            mail = self._mail(f"{acct.user}@{HOSTNAME}", frm, to, subject, extra)
            out.append((("-oMr", "local", "-oMt", acct.user), mail))
        return out

    def php_spam(self, count: int) -> list[Item]:
        account = self.accounts[-1]
        visitors = [self._ip() for _ in range(4)]
        options = ("-oMr", "local", "-oMt", account.user)
        out: list[Item] = []
        for _ in range(count):
            extra = (
                f"X-PHP-Script: {account.domain}/{SCRIPT} for {self._pick(visitors)}",
                "X-Mailer: PHPMailer 6.9.1",
                f"Reply-To: {self._word()}@{self._pick(REPLY_TO)}",
            )
            frm = f"{self._word()}@{self._pick(SPOOFED)}"
            spam = self._pick(SPAM_SUBJECTS)
            mail = self._mail(f"{account.user}@{HOSTNAME}", frm, self._rcpts(1, 5), spam, extra)
            out.append((options, mail))
        return out

    def stolen(self, count: int) -> list[Item]:
        box = self.box
        out: list[Item] = []
        for _ in range(count):
            frm = self._pick((box, f"Support <{box}>", f"{self._word()}@{self._pick(SPOOFED)}"))
            mail = self._mail(box, frm, self._rcpts(2, 8), self._pick(SPAM_SUBJECTS))
            out.append((self._pick(self.bots), mail))
        return out

    def bounces(self, count: int) -> list[Item]:
        out: list[Item] = []
        for _ in range(count):
            frm = f"Mail Delivery System <Mailer-Daemon@{HOSTNAME}>"
            subject = "Mail delivery failed: returning message to sender"
            body = BOUNCE_BODY.format(rcpt=self._rcpts(1, 1)[0])
            extra = ("Auto-Submitted: auto-replied",)
            mail = self._mail("", frm, self._rcpts(1, 1), subject, extra, body)
            out.append((("-oMr", "local", "-oMt", "mailnull"), mail))
        return out

    def _mail(
        self,
        sender: str,
        frm: str,
        rcpts: tuple[str, ...],
        subject: str,
        extra: Options = (),
        body: str = "",
    ) -> _Message:
        domain = frm.rstrip(">").rsplit("@", 1)[-1]
        headers = (
            f"From: {frm}",
            f"To: {', '.join(rcpts)}",
            f"Subject: {subject}",
            f"Date: {self.date}",
            f"Message-ID: {self._msgid(domain)}",
            *extra,
        )
        body = body or f"Hello,\n\n{self._pick(SUBJECTS).lower()}: see below.\n\n-- \n{sender}\n"
        return _Message(sender, rcpts, headers, body)

    def _client(self, box: str, ip: str, name: str = "") -> Options:
        port = self.rng.randrange(1024, 65535)
        name = name or f"cpe-{ip.replace('.', '-')}.isp.example"
        return (
            "-oMr",
            "esmtpa",
            "-oMa",
            f"{ip}.{port}",
            "-oMs",
            name,
            "-oMaa",
            "dovecot_login",
            "-oMai",
            box,
            "-oMt",
            "",
        )

    def _rcpts(self, low: int, high: int) -> tuple[str, ...]:
        count = self.rng.randint(low, high)
        return tuple(f"{self._word()}@{self._pick(EXTERNAL)}" for _ in range(count))

    def _msgid(self, domain: str) -> str:
        return f"<{self.rng.getrandbits(64):016x}.{self.rng.randrange(10**6)}@{domain}>"

    def _word(self) -> str:
        return "".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz", k=self.rng.randint(5, 9)))

    def _ip(self) -> str:
        return f"203.0.113.{self.rng.randrange(2, 250)}"

    def _pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]


def _inject(exim: list[str], spool: Path, items: list[Item], known: set[str]) -> tuple[str, ...]:
    """One category, its batches in parallel: the ``-H`` files not in ``known`` are its ids."""
    with ThreadPoolExecutor(WORKERS) as pool:
        for _ in pool.map(lambda batch: _run([*exim, "-bS", *batch[0]], batch[1]), _batches(items)):
            pass
    made = _spool_ids(spool) - known
    if len(made) != len(items):
        raise CommandError(f"exim -bS queued {len(made)} messages of {len(items)}")
    known |= made
    return tuple(sorted(made, key=_arrival))


def _batches(items: list[Item]) -> Iterator[tuple[Options, str]]:
    groups: dict[Options, list[_Message]] = {}
    for options, message in items:
        groups.setdefault(options, []).append(message)
    for options, messages in groups.items():
        for chunk in _chunks(messages, CHUNK):
            yield options, "".join(m.bsmtp() for m in chunk) + "QUIT\n"


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _run(argv: list[str], stdin: str = "") -> None:
    """Through the one subprocess seam (typed errors on failure, timeout, missing binary)."""
    run(argv, timeout=TIMEOUT, stdin=stdin.encode())


def _spool_ids(spool: Path) -> set[str]:
    """The queued ids (split or flat spool)."""
    if not (spool / "input").is_dir():
        return set()
    return {msgid for msgid, _ in spoolfiles.header_files(spool / "input")}


def _arrival(msgid: str) -> tuple[str, str, str]:
    """Exim 4.96's id is time-pid-fraction in base 62 (0-9A-Za-z sorts as ASCII)."""
    return msgid[:6], msgid[14:], msgid[7:13]


def _as_user(spool: Path, ids: Sequence[str], account: Account) -> None:
    """Line 2 of each ``-H`` file: the caller cPanel's PHP would have been."""
    owner = f"{account.user} {account.uid} {account.uid}\n".encode()
    places = (spoolfiles.places(spool / "input", msgid) for msgid in ids)
    paths = [next((p for p in found if p.is_file()), found[0]) for found in places]
    with ThreadPoolExecutor(WORKERS) as pool:
        for _ in pool.map(lambda path: _replace_line2(path, owner), paths):
            pass


def _replace_line2(path: Path, line: bytes) -> None:
    info = path.stat()
    lines = path.read_bytes().splitlines(keepends=True)
    if len(lines) < 3 or lines[1] != b"root 0 0\n":
        raise CommandError(f"{path}: line 2 is not Exim's `root 0 0`; nothing was changed")
    content = b"".join((lines[0], line, *lines[2:]))
    owner = (info.st_uid, info.st_gid)
    atomic.write_bytes(path, content, mode=info.st_mode & 0o7777, owner=owner)
