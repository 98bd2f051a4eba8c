"""A day of mail on the simulated host, as Exim and Dovecot log it: ordinary traffic for every
account, a customer who mails ~200 invoices through the day, and the incidents the runbook is
for: a stolen mailbox (password guessed over IMAP, then spam from many networks) and a PHP
script in ``public_html`` mailing in bulk.  Deterministic for a seed; the benchmark uses the same
generator at a million lines."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from csm.drill.plan import Account

DAY = datetime(2026, 11, 20, tzinfo=UTC)
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
SPAM_NETS = ("198.51.100", "203.0.113", "192.0.2", "100.64.1", "100.72.3", "100.80.5", "100.88.7")
ATTACKER = "203.0.113.45"
GUESSER = "198.51.100.23"
REMOTE_MX = ("mx1.example.org", "gmail-smtp-in.l.google.com", "mx.example.net")
TLS = "X=TLS1.3:TLS_AES_256_GCM_SHA384:256"
SENT = (
    "{mid} <= {box} H={host}({helo}) [{ip}]:{port} P=esmtpsa " + TLS + " CV=no"
    ' A=dovecot_login:{box} S={size} id={mid}@{domain} T="{subject}"'
)
CWD = "[{pid}] cwd={cwd} 3 args: /usr/sbin/sendmail -t -i"
LOCAL = '[{pid}] {mid} <= {sender} U={user} P=local S={size} T="Your account"'
INBOUND = (
    "{mid} <= {sender} H=mail.example.org [{ip}]:25 P=esmtps "
    + TLS
    + " CV=no S={size} id=x{mid}@example.org"
)
LOCAL_DELIVERY = "{mid} => {box} R=virtual_user T=dovecot_virtual_delivery"
REMOTE_DELIVERY = (
    "{mid} => {rcpt} R=dkim_lookuphost T=dkim_remote_smtp H={mx} [{ip}] "
    + TLS
    + ' CV=yes C="250 OK"'
)
IMAP_OK = (
    "dovecot: imap-login: Logged in: user=<{box}>, method=PLAIN, rip={ip}, lip=192.0.2.1,"
    " mpid={mpid}, TLS"
)
IMAP_FAILED = (
    "dovecot: imap-login: Aborted login (auth failed, 1 attempts in 2 secs): user=<{box}>,"
    " method=PLAIN, rip={ip}, lip=192.0.2.1, TLS"
)
CONNECTION = "SMTP connection from [{ip}]:{port} (TCP/IP connection count = 3)"
REJECTED = "H=({helo}) [{ip}]:{port} F=<{sender}> rejected RCPT <{rcpt}>: relay not permitted"
DEFERRED = (
    "{mid} == {rcpt} R=dkim_lookuphost T=dkim_remote_smtp defer (-44) H=mx.example.com"
    " [198.51.100.9]: SMTP error from remote mail server after RCPT TO:<{rcpt}>:"
    " 451 4.7.1 Try again later"
)
FAILED = (
    "{mid} ** {rcpt} R=dkim_lookuphost T=dkim_remote_smtp H=mx.example.com [198.51.100.9]:"
    " SMTP error from remote mail server after RCPT TO:<{rcpt}>: 550 5.1.1 User unknown"
)
AUTH_FAILED = (
    "dovecot_login authenticator failed for H=(User) [{ip}]:{port}: 535 Incorrect"
    " authentication data (set_id={box})"
)


@dataclass(frozen=True, slots=True)
class MailDay:
    mainlog: list[str]
    maillog: list[str]
    stolen: str  # the stolen mailbox
    script_dir: str  # the PHP mailer's directory
    invoicer: str  # the legitimate high-volume sender


def generate(accounts: Sequence[Account], seed: int, scale: int = 1) -> MailDay:
    """``scale`` multiplies the ordinary traffic (the benchmark asks for a million lines)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation
    writer = _Writer(rng)
    stolen = accounts[0].mailboxes[0].address
    invoicer = f"billing@{accounts[1].domain}"
    script_dir = f"{accounts[-1].home}/public_html/wp-content/uploads/2026/11"
    events = list(_ordinary(rng, accounts, writer, scale))
    events += _invoices(rng, writer, invoicer)
    events += _stolen(rng, writer, stolen)
    events += _php(rng, writer, accounts[-1], script_dir)
    events += _bruteforce(rng, writer, accounts)
    events.sort(key=lambda e: (e[0], e[1]))
    mainlog = [f"{_stamp(at)} {text}" for at, _, where, text in events if where == "exim"]
    maillog = [f"{_syslog(at)} {text}" for at, _, where, text in events if where == "dovecot"]
    return MailDay(mainlog, maillog, stolen, script_dir, invoicer)


Event = tuple[datetime, int, str, str]


class _Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0

    def msgid(self, at: datetime) -> str:
        self.serial += 1
        stamp = int(at.timestamp())
        return f"{_b62(stamp, 6)}-{_b62(self.serial, 6)}-{_b62(self.rng.randrange(3844), 2)}"

    def sent(
        self, at: datetime, box: str, ip: str, rcpts: list[str], subject: str, host: str = ""
    ) -> list[Event]:
        """An authenticated submission, its deliveries, and Completed."""
        mid = self.msgid(at)
        helo = host or f"[{ip}]"
        size = self.rng.randrange(900, 40_000)
        text = SENT.format(
            mid=mid,
            box=box,
            host=f"{host} " if host else "",
            helo=helo,
            ip=ip,
            size=size,
            port=self.rng.randrange(1024, 65535),
            domain=box.split("@")[1],
            subject=subject,
        )
        out: list[Event] = [(at, self.serial, "exim", text)]
        out += self._deliver(at, mid, rcpts)
        return out

    def local(self, at: datetime, user: str, sender: str, rcpt: str, cwd: str) -> list[Event]:
        pid = self.rng.randrange(2000, 60000)
        mid = self.msgid(at)
        size = self.rng.randrange(800, 3000)
        return [
            (at, self.serial, "exim", CWD.format(pid=pid, cwd=cwd)),
            (
                at,
                self.serial,
                "exim",
                LOCAL.format(pid=pid, mid=mid, sender=sender, user=user, size=size),
            ),
            *self._deliver(at, mid, [rcpt]),
        ]

    def inbound(self, at: datetime, sender: str, box: str) -> list[Event]:
        mid = self.msgid(at)
        ip = f"192.0.2.{self.rng.randrange(2, 250)}"
        size = self.rng.randrange(2000, 90000)
        later = at + timedelta(seconds=1)
        return [
            (at, self.serial, "exim", INBOUND.format(mid=mid, sender=sender, ip=ip, size=size)),
            (later, self.serial, "exim", LOCAL_DELIVERY.format(mid=mid, box=box)),
            (later, self.serial, "exim", f"{mid} Completed"),
        ]

    def _deliver(self, at: datetime, mid: str, rcpts: list[str]) -> list[Event]:
        later = at + timedelta(seconds=self.rng.randrange(1, 4))
        out: list[Event] = []
        for rcpt in rcpts:
            mx = self.rng.choice(REMOTE_MX)
            ip = f"198.51.100.{self.rng.randrange(2, 250)}"
            text = REMOTE_DELIVERY.format(mid=mid, rcpt=rcpt, mx=mx, ip=ip)
            out.append((later, self.serial, "exim", text))
        out.append((later, self.serial, "exim", f"{mid} Completed"))
        return out


def _ordinary(
    rng: random.Random, accounts: Sequence[Account], writer: _Writer, scale: int
) -> Iterator[Event]:
    boxes = [
        (m.address, f"192.0.2.{10 + i}")
        for i, m in enumerate(b for a in accounts for b in a.mailboxes)
    ]
    for _ in range(600 * scale):
        at = DAY + timedelta(seconds=rng.randrange(7 * 3600, 22 * 3600))
        box, ip = rng.choice(boxes)
        if rng.random() < 0.45:
            yield from writer.sent(
                at, box, ip, [f"client{rng.randrange(500)}@example.net"], "Re: our call"
            )
        else:
            yield from writer.inbound(at, f"news{rng.randrange(50)}@example.org", box)
        if rng.random() < 0.3:
            text = IMAP_OK.format(box=box, ip=ip, mpid=rng.randrange(1000, 9999))
            yield (at, writer.serial, "dovecot", text)
        yield from _noise(rng, writer, at)


def _noise(rng: random.Random, writer: _Writer, at: datetime) -> Iterator[Event]:
    """Connections, relay rejections, deferrals and hard failures, as any busy server logs."""
    ip, port = f"192.0.2.{rng.randrange(2, 250)}", rng.randrange(1024, 65535)
    roll = rng.random()
    if roll < 0.2:
        yield (at, writer.serial, "exim", CONNECTION.format(ip=ip, port=port))
    elif roll < 0.25:
        text = REJECTED.format(
            helo="scanner", ip=ip, port=port, sender="x@spam.example", rcpt="a@example.com"
        )
        yield (at, writer.serial, "exim", text)
    elif roll < 0.3:
        yield (
            at,
            writer.serial,
            "exim",
            DEFERRED.format(mid=writer.msgid(at), rcpt="late@example.com"),
        )
    elif roll < 0.33:
        yield (
            at,
            writer.serial,
            "exim",
            FAILED.format(mid=writer.msgid(at), rcpt="gone@example.com"),
        )


def _invoices(rng: random.Random, writer: _Writer, box: str) -> list[Event]:
    """About 200 invoices over business hours: busy, but never a burst."""
    out: list[Event] = []
    for n in range(200):
        at = DAY + timedelta(hours=8, seconds=n * 180 + rng.randrange(60))
        out += writer.sent(
            at, box, "192.0.2.77", [f"customer{n}@example.net"], f"Invoice INV-2026-{n:04d}"
        )
    return out


def _stolen(rng: random.Random, writer: _Writer, box: str) -> list[Event]:
    """Failed IMAP logins from one address, a success, then spam from many networks."""
    start = DAY + timedelta(hours=14)
    out: list[Event] = []
    for n in range(4):
        at = start + timedelta(seconds=n * 20)
        out.append((at, 0, "dovecot", IMAP_FAILED.format(box=box, ip=GUESSER)))
    success = IMAP_OK.format(box=box, ip=GUESSER, mpid=4242)
    out.append((start + timedelta(seconds=100), 0, "dovecot", success))
    for n in range(600):
        at = start + timedelta(minutes=5, seconds=n * 6)
        ip = f"{SPAM_NETS[n % len(SPAM_NETS)]}.{rng.randrange(2, 250)}"
        rcpts = [
            f"{''.join(rng.choices(string.ascii_lowercase, k=7))}@example.com" for _ in range(3)
        ]
        out += writer.sent(at, box, ip, rcpts, "Your parcel is waiting")
    return out


def _php(rng: random.Random, writer: _Writer, account: Account, script_dir: str) -> list[Event]:
    start = DAY + timedelta(hours=3)
    out: list[Event] = []
    for n in range(240):
        at = start + timedelta(seconds=n * 7)
        rcpt = f"{''.join(rng.choices(string.ascii_lowercase, k=8))}@example.net"
        out += writer.local(
            at, account.user, f"{account.user}@server1.drill.test", rcpt, script_dir
        )
    return out


def _bruteforce(rng: random.Random, writer: _Writer, accounts: Sequence[Account]) -> list[Event]:
    start = DAY + timedelta(hours=1)
    targets = [m.address for a in accounts for m in a.mailboxes]
    return [
        (
            start + timedelta(seconds=n * 9),
            0,
            "exim",
            AUTH_FAILED.format(
                ip=ATTACKER, port=rng.randrange(1024, 65535), box=rng.choice(targets)
            ),
        )
        for n in range(40)
    ]


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _syslog(at: datetime) -> str:
    return at.strftime("%b %d %H:%M:%S server1")


def _b62(value: int, width: int) -> str:
    digits = ""
    for _ in range(width):
        value, rest = divmod(value, 62)
        digits = BASE62[rest] + digits
    return digits
