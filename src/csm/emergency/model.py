"""What the emergency commands return: previews, results and the status, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field

from csm.emergency.repo import Stop


@dataclass(frozen=True, slots=True)
class AccountCount:
    account: str  # "" for messages of no known account
    messages: int


@dataclass(frozen=True, slots=True)
class Left:
    """A recorded message the resume leaves frozen, and why."""

    msgid: str
    account: str
    why: str


@dataclass(frozen=True, slots=True)
class StopResult:
    direction: str
    applied: bool  # False: a preview, nothing changed
    stop: Stop | None  # the record (a preview: the interrupted stop it would complete)
    continued: bool = False  # it completed a stop that was interrupted
    to_freeze: int = 0  # outbound: queued messages not frozen (the preview's count)
    frozen: int = 0  # outbound: frozen by this run
    already_frozen: int = 0  # outbound: frozen before the stop (not recorded, not thawed later)
    by_account: tuple[AccountCount, ...] = ()  # outbound: what is (to be) frozen, by account
    failed: dict[str, str] = field(default_factory=dict)  # msgid -> why it is not frozen
    exim_reads_flag: bool = False  # the snippets are in Exim's configuration
    missing: tuple[str, ...] = ()  # what of them is missing
    smtp_refused: bool | None = None  # inbound: Exim answered a probe with 421 (None: not asked)
    ports: tuple[int, ...] = ()  # inbound --firewall: the SMTP ports closed in nftables
    incidents: tuple[str, ...] = ()  # the incidents the stop is noted on
    warnings: tuple[str, ...] = ()
    mta: str = "exim"
    changes: tuple[str, ...] = ()  # Citadel: what is (to be) changed on citserver, in words
    queued: int = 0  # Citadel outbound: jobs in the queue room (they wait while stopped)


@dataclass(frozen=True, slots=True)
class ResumeResult:
    direction: str
    applied: bool
    stop: Stop | None  # None: only a flag file no stop accounts for (stray_flag)
    continued: bool = False  # it completed a resume that was interrupted
    thawed: tuple[str, ...] = ()  # applied: thawed now; a preview: would be thawed
    left: tuple[Left, ...] = ()  # stay frozen (credentials not rotated or deferred)
    adopted: int = 0  # arrived while outbound was stopped (frozen by the ACL), recorded now
    trashed: int = 0  # moved to the queue quarantine meanwhile: never released here
    gone: int = 0  # no longer queued, or thawed by someone else
    failed: dict[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()  # inbound: the ports opened again
    approval: str = ""
    stray_flag: bool = False  # the flag file was there without a stop: taken away
    mta: str = "exim"
    changes: tuple[str, ...] = ()  # Citadel: what is (to be) changed on citserver, in words


@dataclass(frozen=True, slots=True)
class StopState:
    """One stop as ``csm mail emergency status`` shows it."""

    stop: Stop
    age_seconds: int
    overdue: bool  # older than mail.emergency.remind_after
    messages: dict[str, int]  # its recorded messages by state
    flag: bool  # the flag file is in place
    interrupted: bool  # stopping or resuming was cut short: rerun the command
    next_step: str  # the command that undoes (or completes) it


@dataclass(frozen=True, slots=True)
class EmergencyStatus:
    stopped: tuple[str, ...]  # directions stopped now ("outbound", "inbound")
    stops: tuple[StopState, ...]  # open stops, and resumed ones that left messages frozen
    stray_flags: tuple[str, ...]  # flag files no open stop accounts for
    firewall_ports: tuple[int, ...]  # SMTP ports closed in CSM's nftables table now
    exim_outbound: bool  # Exim's configuration reads the outbound flag
    exim_inbound: bool
    missing: tuple[str, ...]  # what of the snippets is missing
    problems: tuple[str, ...] = ()  # things that could not be checked
    warnings: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """Mail flows: nothing stopped, no flag or closed port left behind (messages a
        resume left frozen are a warning, not a stop)."""
        return not (self.stopped or self.stray_flags or self.firewall_ports)
