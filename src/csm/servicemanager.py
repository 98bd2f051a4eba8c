"""The service manager (systemd): a unit's environment set through a drop-in file CSM owns
(``<unit_dir>/<unit>.service.d/csm-emergency.conf``), and the unit restarted so that the
service starts with it.  Only CSM's own drop-in is written or removed; the unit file and any
other drop-in are left as they are.  The unit name is validated before it reaches a path or
``systemctl``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from csm import atomic
from csm.errors import UsageError
from csm.host import Host

DROP_IN: Final = "csm-emergency.conf"
UNIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
VALUE = re.compile(r"[A-Za-z0-9_.,:/@+-]{0,256}")


@dataclass(frozen=True, slots=True)
class ServiceManager:
    host: Host
    systemctl: str
    unit_dir: Path  # the real path of /etc/systemd/system (under the host root)
    timeout: float = 60.0

    def drop_in(self, unit: str) -> Path:
        return self.unit_dir / f"{_unit(unit)}.service.d" / DROP_IN

    def environment(self, unit: str) -> dict[str, str]:
        """The variables CSM's drop-in sets for ``unit`` (empty: there is no drop-in)."""
        try:
            text = self.drop_in(unit).read_text()
        except FileNotFoundError:
            return {}
        found: dict[str, str] = {}
        for line in text.splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "Environment":
                name, _, setting = value.strip().strip('"').partition("=")
                found[name] = setting
        return found

    def set_environment(self, unit: str, values: Mapping[str, str], comment: str) -> None:
        """Write CSM's drop-in (atomically) and reload systemd's view of the unit."""
        lines = [f"# {line}" for line in comment.splitlines()]
        lines.append("[Service]")
        lines += [f'Environment="{_name(k)}={_value(v)}"' for k, v in values.items()]
        path = self.drop_in(unit)
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        atomic.write_bytes(path, ("\n".join(lines) + "\n").encode(), mode=0o644)
        self._systemctl("daemon-reload")

    def clear_environment(self, unit: str) -> bool:
        """Remove CSM's drop-in (whether it was there) and reload systemd's view."""
        path = self.drop_in(unit)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        descriptor = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        self._systemctl("daemon-reload")
        return True

    def restart(self, unit: str) -> None:
        self._systemctl("restart", f"{_unit(unit)}.service")

    def _systemctl(self, *args: str) -> None:
        self.host.runner([self.systemctl, *args], timeout=self.timeout)


def _unit(name: str) -> str:
    if not UNIT.fullmatch(name):
        raise UsageError(f"invalid systemd unit name: {name!r}")
    return name


def _name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise UsageError(f"invalid environment variable name: {name!r}")
    return name


def _value(value: str) -> str:
    if not VALUE.fullmatch(value):
        raise UsageError(f"invalid environment value: {value!r}")
    return value
