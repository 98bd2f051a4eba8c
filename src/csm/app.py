"""The composition root: one place that turns a loaded configuration into wired services."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from csm.accounts.domains import USERDOMAINS, DomainMap
from csm.accounts.model import Panel
from csm.accounts.service import NAME_SOURCES, Accounts
from csm.audit import AuditLog, OnDemandAudit, current_operator
from csm.clock import Clock, SystemClock
from csm.config import profiles
from csm.config.loader import LoadedConfig
from csm.config.model import Config
from csm.detectors.mail.context import MailContext
from csm.errors import ConfigError
from csm.host import Host, Runner, run
from csm.store.db import Store

# What a queued message's account is resolved from: whether this is a cPanel host, the
# account names, and the domains' owners (the spool index keeps them while these hold).
OWNER_SOURCES = tuple(dict.fromkeys((*profiles.CPANEL_MARKERS, *NAME_SOURCES, USERDOMAINS)))

if TYPE_CHECKING:
    from csm import mysql
    from csm.backup.service import Backups
    from csm.citadel.client import Address
    from csm.cpanel import Cpanel
    from csm.credentials.service import Credentials
    from csm.emergency.service import Emergency
    from csm.firewall.service import Firewall
    from csm.forensic.snapshot import Forensics
    from csm.incidents.service import Incidents
    from csm.mailqueue.actions import QueueActions
    from csm.mailqueue.decisions import QueueDecisions
    from csm.mailqueue.exim import Exim
    from csm.mailqueue.holds import Holds
    from csm.mailqueue.service import MailQueue
    from csm.mailqueue.source import QueueSource
    from csm.mailqueue.trash import Trash
    from csm.nftables import Nft
    from csm.response.dbobjects import DbObjects
    from csm.response.quarantine import Quarantine
    from csm.scan.logs import LogReport, Progress
    from csm.scan.service import Scans
    from csm.scan.timeline import MailTimeline


@dataclass(frozen=True, slots=True)
class App:
    loaded: LoadedConfig
    host: Host
    clock: Clock
    env: Mapping[str, str]
    acting: str | None = None  # who asked, when the daemon runs an operation for a client

    @property
    def config(self) -> Config:
        return self.loaded.config

    @property
    def state_dir(self) -> Path:
        return self.host.path(self.config.paths.state_dir)

    @property
    def log_dir(self) -> Path:
        return self.host.path(self.config.paths.log_dir)

    @property
    def operator(self) -> str:
        """Who is acting, for the audit log."""
        return self.acting or current_operator(self.env)

    def open_store(self) -> Store:
        """The store for writing (created and migrated as needed)."""
        return Store.open(self.state_dir, clock=self.clock)

    def audit(self, store: Store) -> AuditLog:
        return AuditLog(store, self.log_dir, self.clock)

    def mail_context(self, userdomains: Path | None = None) -> MailContext:
        """The mail detectors' shared context: rules, domain owners, trusted senders and IPs."""
        mail = self.config.mail
        domains = self.domains(userdomains)
        return MailContext.build(mail.rules, domains, mail.high_volume_senders, mail.infra_ips)

    def check_logs(
        self,
        paths: Sequence[Path],
        source: str = "auto",
        *,
        since: datetime | None = None,
        store: bool = False,
        userdomains: Path | None = None,
        progress: Progress | None = None,
    ) -> LogReport:
        """The mail detectors over existing logs (``csm check-logs``); with ``store`` the
        findings are recorded as incidents."""
        from csm.scan.logs import LogCheck, source_named  # noqa: PLC0415

        kind, context = source_named(source), self.mail_context(userdomains)
        year = self.config.mail.log_year
        if not store:
            return LogCheck(context, since, year=year).run(list(paths), kind, progress)
        with self.incidents() as incidents:
            return LogCheck(context, since, incidents, year).run(list(paths), kind, progress)

    def mail_timeline(
        self,
        subject: str,
        logs: Sequence[Path] = (),
        *,
        since: datetime | None = None,
        userdomains: Path | None = None,
    ) -> MailTimeline:
        """What one mailbox or account did, hour by hour (``csm mail timeline``), from
        ``logs`` or by default the configured mainlog and maillog and their rotated sets."""
        from csm.scan import timeline  # noqa: PLC0415

        mail = self.config.mail
        paths = list(logs) or timeline.default_logs(
            self.host.path(mail.exim_mainlog), self.host.path(mail.maillog)
        )
        domains = self.domains(userdomains)
        return timeline.build(subject, paths, domains, mail.rules.rate_warn, since)

    def domains(self, userdomains: Path | None = None) -> DomainMap:
        """Who owns which domain (see :meth:`DomainMap.chosen`); without a config file CSM may
        run away from the host its logs come from."""
        return DomainMap.chosen(self.host, userdomains, on_host=not self.loaded.builtin)

    @property
    def hostname(self) -> str:
        """The server's name: configured, else the machine's."""
        return self.config.hostname or socket.gethostname()

    @property
    def panel(self) -> Panel:
        """cPanel or plain, as configured or detected from the host tree."""
        return profiles.detect(self.config, self.host).panel

    def mysql_login(self) -> mysql.Credentials:
        """The server's MariaDB admin login, read when a service first needs it."""
        from csm import mysql  # noqa: PLC0415

        return mysql.credentials(self.config.mysql, self.host)

    def accounts(self) -> Accounts:
        hosting = self.config.hosting
        files = tuple(hosting.dovecot_passwd_files)
        return Accounts(self.host, self.panel, files, hosting.min_uid, hosting.databases)

    def backups(self) -> Backups:
        """``csm backup`` / ``restore``: the config file, its drop-ins and the state directory."""
        from csm.backup.archive import Layout  # noqa: PLC0415
        from csm.backup.service import Backups  # noqa: PLC0415
        from csm.version import __version__  # noqa: PLC0415

        loaded = self.loaded
        layout = Layout(loaded.path.absolute(), loaded.dropin_dir.absolute(), self.state_dir)
        socket = self.host.path(self.config.paths.control_socket)
        return Backups(layout, socket, self.clock, __version__, self.audit, self.env)

    @contextmanager
    def forensics(self) -> Iterator[Forensics]:
        """Forensic snapshots; each is audited and put on the account's active incidents."""
        from csm.forensic.evidence import IncidentEvidence  # noqa: PLC0415
        from csm.forensic.mail import MailSources  # noqa: PLC0415
        from csm.forensic.snapshot import Forensics  # noqa: PLC0415

        accounts = self.accounts()
        mail = MailSources.from_config(self.config.mail, self.host, accounts.names())
        with self.incidents() as incidents:
            yield Forensics(
                self.host,
                self.mysql_login,
                self.clock,
                mail,
                self.config.paths.home_dir,
                owners=accounts.owners,
                evidence=IncidentEvidence(incidents),
            )

    @contextmanager
    def incidents(self) -> Iterator[Incidents]:
        """The incidents service over an open store, closed afterwards (its close guard knows
        whether this is a cPanel host, whose account password must be rotated too)."""
        store = self.open_store()
        try:
            from csm.incidents.guard import store_guard  # noqa: PLC0415 - heavy, seldom needed
            from csm.incidents.service import Incidents  # noqa: PLC0415

            close_guard = store_guard(store, self.panel)
            audit = self.audit(store)
            yield Incidents(store, self.config.incidents, self.clock, audit, close_guard)
        finally:
            store.close()

    @contextmanager
    def credentials(self) -> Iterator[Credentials]:
        """The credentials service (with the incidents it reads), closed afterwards."""
        from csm.credentials.rotate import Rotators  # noqa: PLC0415
        from csm.credentials.service import Credentials  # noqa: PLC0415
        from csm.scan.database import DatabaseCheck  # noqa: PLC0415

        timeout = self.config.mysql.connect_timeout
        backups = self.state_dir / "credentials" / "backups"
        rotators = Rotators(
            self.host, self.cpanel(), self.mysql_login, backups, self.clock, timeout
        )
        check = DatabaseCheck(
            self.mysql_login, self.config.scan.database, self.clock.now(), timeout
        )
        with self.incidents() as incidents:
            yield Credentials(
                self.host,
                self.accounts(),
                incidents,
                incidents.audit,
                self.clock,
                self.mysql_login,
                rotators,
                self.cpanel(),
                timeout,
                self.config.paths.home_dir,
                check,
            )

    @contextmanager
    def scans(self) -> Iterator[Scans]:
        """The account scans (with the incidents they record into), closed afterwards."""
        from csm.scan.service import Scans  # noqa: PLC0415

        with self.incidents() as incidents:
            scan = self.config.scan
            quarantine = None
            if self.config.auto_response.quarantine_files:
                from csm.response.quarantine import Quarantine  # noqa: PLC0415

                quarantine = Quarantine(
                    self.host,
                    incidents.store,
                    incidents.audit,
                    self.clock,
                    self.config.paths.quarantine_dir,
                    self.config.paths.home_dir,
                )
            yield Scans(
                self.host,
                self.accounts(),
                incidents,
                self.mysql_login,
                scan.database,
                self.clock,
                self.config.mysql.connect_timeout,
                tuple(str(self.host.path(p)) for p in scan.extra_rules),
                quarantine,
                scan.files,
            )

    @contextmanager
    def quarantine(self) -> Iterator[Quarantine]:
        from csm.response.quarantine import Quarantine  # noqa: PLC0415

        store = self.open_store()
        try:
            paths = self.config.paths
            yield Quarantine(
                self.host,
                store,
                self.audit(store),
                self.clock,
                paths.quarantine_dir,
                paths.home_dir,
            )
        finally:
            store.close()

    @contextmanager
    def mail_queue(self) -> Iterator[MailQueue]:
        """The queue views (read-only; the store opens only when something is recorded)."""
        from csm.mailqueue import index  # noqa: PLC0415
        from csm.mailqueue.service import MailQueue  # noqa: PLC0415

        with self._queue_source() as queue:
            stamps = index.stamps(str(self.host.path(p)) for p in OWNER_SOURCES)  # before reading
            users = frozenset(self.accounts().names())
            domains = DomainMap.load(self.host)
            kept = None
            if stamps is not None:
                kept = index.OwnersKept(
                    self.loaded.sha256, stamps, tuple(sorted(users)), dict(domains.owners)
                )
            index_path = str(self.state_dir / index.NAME)
            audit = OnDemandAudit(self.open_store, self.log_dir, self.clock)
            try:
                yield MailQueue(queue, domains, users, self.clock, audit, index_path, kept)
            finally:
                audit.close()

    @contextmanager
    def _queue_source(self) -> Iterator[QueueSource]:
        """Exim's spool, or Citadel's queue room over one citserver session."""
        mail = self.config.mail
        queue_mta(mail.mta)
        if mail.mta == "exim":
            from csm.mailqueue.eximqueue import EximQueue  # noqa: PLC0415

            yield EximQueue(self.exim(), self.host.path(mail.exim_spool))
            return
        from csm.mailqueue.citadel import CitadelQueue  # noqa: PLC0415

        settings = mail.citadel
        citadel = CitadelQueue(self.citadel_address(), settings.queue_room, settings.trash_room)
        try:
            yield citadel
        finally:
            citadel.close()

    def exim(self) -> Exim:
        from csm.mailqueue.exim import Exim  # noqa: PLC0415

        return Exim(self.config.mail, self.host)

    def citadel_address(self) -> Address:
        """Where citserver listens, with the login."""
        from csm.citadel.client import Address  # noqa: PLC0415

        return Address.of(self.config.mail.citadel, self.host)

    @contextmanager
    def queue_work(self) -> Iterator[tuple[MailQueue, QueueDecisions, QueueActions]]:
        """The queue's views, its review and decisions, and its actions, over one store (with
        the incidents, whose credentials gate the actions and which note them)."""
        with self._queue_parts() as (view, decisions, actions, _):
            yield view, decisions, actions

    @contextmanager
    def _queue_parts(
        self,
    ) -> Iterator[tuple[MailQueue, QueueDecisions, QueueActions, Incidents]]:
        from csm.incidents.gate import CredentialsGate  # noqa: PLC0415
        from csm.incidents.guard import GuardRecords  # noqa: PLC0415
        from csm.mailqueue import owner, review  # noqa: PLC0415
        from csm.mailqueue.actions import QueueActions  # noqa: PLC0415
        from csm.mailqueue.decisions import QueueDecisions  # noqa: PLC0415

        with self.mail_queue() as view, self.incidents() as incidents:
            gate = CredentialsGate(incidents, GuardRecords(incidents.store, self.panel))
            mailboxes = frozenset(m.lower() for m in incidents.open_mailboxes(None))
            context = review.Context(self.config.mail.queue_review, view.domains, gate, mailboxes)
            decisions = QueueDecisions(
                incidents.store, incidents.audit, self.clock, view.read, context
            )
            quarantine = self.host.path(self.config.paths.quarantine_dir) / "queue"
            actions = QueueActions(
                view.queue,
                incidents.store,
                incidents.audit,
                self.clock,
                quarantine,
                gate,
                incidents,
                owner.Owners(view.domains, view.users),
            )
            yield view, decisions, actions, incidents

    @contextmanager
    def trash(self) -> Iterator[Trash]:
        """The queue's trash: reviewed messages moved to the queue quarantine."""
        from csm.mailqueue.trash import Trash  # noqa: PLC0415

        with self.queue_work() as (view, decisions, actions):
            yield Trash(view, decisions, actions)

    @contextmanager
    def emergency(self) -> Iterator[Emergency]:
        """The server-wide mail stop, over the queue's actions and the incidents."""
        from csm.emergency.parts import citadel_parts, exim_parts  # noqa: PLC0415
        from csm.emergency.record import Recorder  # noqa: PLC0415
        from csm.emergency.service import Emergency  # noqa: PLC0415

        mail = self.config.mail
        with self._queue_parts() as (view, _, actions, incidents):
            record = Recorder(actions.store, actions.audit, self.clock, incidents)
            if mail.mta == "citadel":
                parts = citadel_parts(mail, self.host, record, view, self.nft())
                yield Emergency(record, *parts, mail.emergency)
            else:
                found = exim_parts(mail, self.host, record, view, actions, self.nft())
                yield Emergency(record, *found, mail.emergency)

    @contextmanager
    def firewall(self) -> Iterator[Firewall]:
        """IP blocks in CSM's nftables table."""
        from csm.firewall.policy import NeverBlocked  # noqa: PLC0415
        from csm.firewall.service import Firewall  # noqa: PLC0415

        store = self.open_store()
        try:
            never = NeverBlocked.of(self.config.firewall.allow, self.config.mail.infra_ips)
            settings = self.config.firewall
            yield Firewall(store, self.audit(store), self.clock, self.nft(), settings, never)
        finally:
            store.close()

    def nft(self) -> Nft:
        from csm.nftables import Nft  # noqa: PLC0415

        settings = self.config.firewall
        return Nft(self.host, settings.nft_bin, settings.command_timeout)

    @contextmanager
    def holds(self) -> Iterator[Holds]:
        """Per-account outgoing mail holds (freezing through the queue actions)."""
        from csm.mailqueue.holds import Holds, held_file  # noqa: PLC0415

        exim_only(self.config.mail.mta, "holding an account's mail")
        with self.queue_work() as (view, _, actions):
            yield Holds(
                actions.store,
                actions.audit,
                self.clock,
                actions,
                self.exim(),
                view,
                self.cpanel(),
                held_file(self.state_dir),
                self.accounts(),
                self.hostname,
            )

    @contextmanager
    def db_objects(self) -> Iterator[DbObjects]:
        from csm.response.dbobjects import DbObjects  # noqa: PLC0415

        store = self.open_store()
        try:
            yield DbObjects(
                self.accounts(),
                store,
                self.audit(store),
                self.clock,
                self.mysql_login,
                self.config.mysql.connect_timeout,
            )
        finally:
            store.close()

    def cpanel(self) -> Cpanel | None:
        """cPanel's APIs, on a cPanel host."""
        if self.panel != "cpanel":
            return None
        from csm.cpanel import Cpanel  # noqa: PLC0415

        settings = self.config.cpanel
        return Cpanel(self.host, settings.uapi_bin, settings.whmapi1_bin, settings.command_timeout)


def queue_mta(mta: str) -> None:
    """The queue commands read Exim's spool or Citadel's queue room: refused on other MTAs."""
    if mta not in ("exim", "citadel"):
        raise ConfigError(
            f"the queue commands work on Exim's and Citadel's queues; this host's mail.mta"
            f" is {mta}",
            fix="set mail.mta: exim or citadel (Postfix's queue is not supported yet)",
        )


def exim_only(mta: str, what: str) -> None:
    """Holds work through Exim's configuration: refused on any other MTA."""
    if mta != "exim":
        raise ConfigError(
            f"{what} works through Exim; this host's mail.mta is {mta}",
            fix="on a Citadel host: csm mail stop outbound (the whole server), csm queue trash",
        )


def build(
    loaded: LoadedConfig,
    env: Mapping[str, str],
    *,
    clock: Clock | None = None,
    runner: Runner = run,
) -> App:
    host = Host(Path(loaded.config.paths.root), runner)
    return App(loaded, host, clock or SystemClock(), env)
