"""The composition root: one place that turns a loaded configuration into wired services."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from csm.accounts.domains import DomainMap
from csm.audit import AuditLog, current_operator
from csm.clock import Clock, SystemClock
from csm.config.loader import LoadedConfig
from csm.config.model import Config
from csm.detectors.mail.context import MailContext
from csm.host import Host, Runner, run
from csm.store.db import Store

if TYPE_CHECKING:
    from csm.incidents.service import Incidents


@dataclass(frozen=True, slots=True)
class App:
    loaded: LoadedConfig
    host: Host
    clock: Clock
    env: Mapping[str, str]

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
        return current_operator(self.env)

    def open_store(self) -> Store:
        """The store for writing (created and migrated as needed)."""
        return Store.open(self.state_dir, clock=self.clock)

    def audit(self, store: Store) -> AuditLog:
        return AuditLog(store, self.log_dir, self.clock)

    def mail_context(self) -> MailContext:
        """The mail detectors' shared context: rules, domain owners, trusted senders and IPs."""
        mail = self.config.mail
        domains = DomainMap.load(self.host)
        return MailContext.build(mail.rules, domains, mail.high_volume_senders, mail.infra_ips)

    @contextmanager
    def incidents(self) -> Iterator[Incidents]:
        """The incidents service over an open store, closed afterwards."""
        store = self.open_store()
        try:
            from csm.incidents.service import Incidents  # noqa: PLC0415 - heavy, seldom needed

            yield Incidents(store, self.config.incidents, self.clock, self.audit(store))
        finally:
            store.close()


def build(
    loaded: LoadedConfig,
    env: Mapping[str, str],
    *,
    clock: Clock | None = None,
    runner: Runner = run,
) -> App:
    host = Host(Path(loaded.config.paths.root), runner)
    return App(loaded, host, clock or SystemClock(), env)
