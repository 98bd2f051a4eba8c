"""Installing and removing CSM on a host: idempotent (what is there and right is left
alone), never overwriting an operator's config, and on removal keeping the data (config,
state, logs) unless ``purge``; the quarantine is never removed (customer files)."""

from __future__ import annotations

import os
import re
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

from csm import atomic
from csm.config.model import Config
from csm.errors import RefusedError
from csm.host import Host, Runner
from csm.install import files, tls

HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


@dataclass(frozen=True, slots=True)
class Change:
    path: str  # the host path
    action: str  # created, updated, unchanged, kept, removed, absent
    note: str = ""


@dataclass(frozen=True, slots=True)
class InstallResult:
    root: str
    changes: tuple[Change, ...]
    next_steps: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return any(c.action in {"created", "updated", "removed"} for c in self.changes)


@dataclass
class Installer:
    host: Host
    config: Config
    executable: str  # what the unit runs
    systemctl: str = "/bin/systemctl"
    tls: bool = False  # also a self-signed certificate for the web UI and API
    changes: list[Change] = field(default_factory=list)

    def install(self) -> InstallResult:
        paths = self.config.paths
        for directory in (paths.state_dir, paths.log_dir, paths.quarantine_dir, files.DROPIN_DIR):
            self._directory(directory, 0o700)
        self._file(files.CONFIG_PATH, files.CONFIG, 0o600, replace=False)
        self._file(files.UNIT_PATH, files.unit(self.executable), 0o644)
        self._file(files.LOGROTATE_PATH, files.logrotate(paths.log_dir), 0o644)
        steps = ["systemctl enable --now csm", "csm status"]
        if self.tls:
            self._certificate()
            steps.insert(1, "systemctl restart csm   # when it ran already: HTTPS on api.listen")
        if self._on_this_machine():
            self._reload_systemd()
        return InstallResult(str(self.host.root), tuple(self.changes), tuple(steps))

    def uninstall(self, *, purge: bool = False) -> InstallResult:
        """The unit and logrotate rules go (only CSM's own: they carry its mark); with
        ``purge`` the config, state and logs too.  The daemon must be stopped first."""
        for path in (files.UNIT_PATH, files.LOGROTATE_PATH):
            self._remove_ours(path)
        paths = self.config.paths
        kept = (files.CONFIG_PATH, paths.state_dir, paths.log_dir)
        for path in kept:
            if purge:
                self._purge(path)
            elif self.host.path(path).exists():
                self.changes.append(Change(path, "kept", "data: removed only with --purge"))
        self._purge_config_dir(purge)
        quarantine = paths.quarantine_dir
        if self.host.path(quarantine).exists():
            self.changes.append(Change(quarantine, "kept", "quarantined customer files"))
        if self._on_this_machine():
            self._reload_systemd()
        return InstallResult(str(self.host.root), tuple(self.changes))

    # -- steps -----------------------------------------------------------------------------

    def _directory(self, host_path: str, mode: int) -> None:
        path = self.host.path(host_path)
        if path.is_dir():
            self.changes.append(Change(host_path, "unchanged"))
            return
        path.mkdir(parents=True, mode=mode)
        os.chmod(path, mode)
        self.changes.append(Change(host_path, "created"))

    def _file(self, host_path: str, text: str, mode: int, *, replace: bool = True) -> None:
        path = self.host.path(host_path)
        data = text.encode()
        if path.is_file():
            same = path.read_bytes() == data
            if same or not replace:
                note = "" if same else "the operator's: left as it is"
                self.changes.append(Change(host_path, "unchanged" if same else "kept", note))
                return
        action = "updated" if path.exists() else "created"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, data, mode=mode)
        self.changes.append(Change(host_path, action))

    def _certificate(self) -> None:
        """A self-signed pair (an existing one is kept) and the drop-in that uses it."""
        cert, key = self.host.path(tls.CERT), self.host.path(tls.KEY)
        if cert.is_file() and key.is_file():
            self.changes += [Change(tls.CERT, "unchanged"), Change(tls.KEY, "unchanged")]
        else:
            pair = tls.self_signed(self.host.runner, self._hostname())
            self._directory(tls.TLS_DIR, 0o700)
            atomic.write_bytes(key, pair.key, mode=0o600)
            atomic.write_bytes(cert, pair.certificate, mode=0o644)
            self.changes += [Change(tls.CERT, "created"), Change(tls.KEY, "created")]
        self._file(tls.DROPIN, tls.DROPIN_TEXT, 0o600, replace=False)

    def _hostname(self) -> str:
        name = self.config.hostname or socket.gethostname()
        return name if HOSTNAME.fullmatch(name) else "localhost"

    def _remove_ours(self, host_path: str) -> None:
        path = self.host.path(host_path)
        if not path.is_file():
            self.changes.append(Change(host_path, "absent"))
            return
        if not path.read_text(errors="replace").startswith(files.MARK):
            self.changes.append(Change(host_path, "kept", "not installed by csm: left alone"))
            return
        path.unlink()
        self.changes.append(Change(host_path, "removed"))

    def _purge(self, host_path: str) -> None:
        path = self.host.path(host_path)
        if not path.exists():
            return
        if not any(part.startswith("csm") for part in Path(host_path).parts):
            self.changes.append(Change(host_path, "kept", "not CSM's by its name: left alone"))
            return
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        self.changes.append(Change(host_path, "removed", "--purge"))

    def _purge_config_dir(self, purge: bool) -> None:
        dropins = self.host.path(files.DROPIN_DIR)
        if purge and dropins.is_dir():
            shutil.rmtree(dropins)
            self.changes.append(Change(files.DROPIN_DIR, "removed", "--purge"))
            parent = dropins.parent
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()

    def _on_this_machine(self) -> bool:
        return self.host.root.resolve() == Path("/") and Path(self.systemctl).exists()

    def _reload_systemd(self) -> None:
        runner: Runner = self.host.runner
        runner([self.systemctl, "daemon-reload"], timeout=60)


def refuse_while_running(answers: bool) -> None:
    """Uninstalling under a running daemon would pull its files from under it."""
    if answers:
        raise RefusedError(
            "the daemon is running", fix="systemctl disable --now csm, then csm uninstall"
        )
