"""The flag files Exim reads (``stop-outbound``, ``stop-inbound`` in ``mail.emergency.flag_dir``)
and whether this Exim reads them: the macro ``CSM_MAIL_FLAGS`` names the directory, and the
shipped snippets (``csm/config/exim/emergency-*.acl``, ``emergency-router.conf``) are in its
configuration.  A flag's content says which stop wrote it, for the operator who finds it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from csm import atomic
from csm.mailqueue.exim import PROBE_CLIENT, Exim

MACRO: Final = "CSM_MAIL_FLAGS"
NAMES: Final = {"outbound": "stop-outbound", "inbound": "stop-inbound"}
REFUSED: Final = "mail service stopped by the hosting provider"  # emergency-inbound.acl's
INCLUDE = re.compile(r"^\s*\.include(?:_if_exists)?\s+(\S+)\s*$", re.MULTILINE)
SECTION = re.compile(r"^\s*begin\s+(\w+)\s*$", re.MULTILINE)
COMMENT = re.compile(r"^\s*#.*$", re.MULTILINE)
MAX_FILES: Final = 64


@dataclass(frozen=True, slots=True)
class Flags:
    directory: Path  # the real path of mail.emergency.flag_dir

    def path(self, direction: str) -> Path:
        return self.directory / NAMES[direction]

    def present(self, direction: str) -> bool:
        return self.path(direction).exists()

    def raise_flag(self, direction: str, text: str) -> None:
        """Write the flag (atomically; world-readable: Exim's user checks it)."""
        self.directory.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o755)  # noqa: S103 - Exim's user must reach the flags
        atomic.write_bytes(self.path(direction), text.encode(), mode=0o644)

    def lower(self, direction: str) -> None:
        try:
            self.path(direction).unlink()
        except FileNotFoundError:
            return
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@dataclass(frozen=True, slots=True)
class Installed:
    """What of the shipped snippets this Exim's configuration carries."""

    macro: str | None  # CSM_MAIL_FLAGS as Exim defines it (None: not defined)
    macro_ok: bool  # it names mail.emergency.flag_dir
    outbound_acls: int  # ACL statements reading stop-outbound (acl_smtp_data, acl_not_smtp)
    router: bool  # the router that defers remote deliveries while stopped
    inbound_acl: bool  # the acl_smtp_connect statement reading stop-inbound
    config: str  # the configuration file read ("" when unknown)

    def missing(self, direction: str) -> list[str]:
        """What is missing for a stop in ``direction`` to work, in words."""
        found = []
        if not self.macro_ok:
            found.append(f"the macro {MACRO} naming the flag directory")
        if direction == "outbound" and self.outbound_acls < 2:
            found.append("emergency-outbound.acl in acl_smtp_data and acl_not_smtp")
        if direction == "outbound" and not self.router:
            found.append("the router emergency-router.conf")
        if direction == "inbound" and not self.inbound_acl:
            found.append("emergency-inbound.acl in acl_smtp_connect")
        return found


@dataclass(frozen=True, slots=True)
class EximFlags:
    """Asks Exim whether it reads CSM's flags (changing nothing)."""

    exim: Exim
    flags: Flags
    config_path: Path | None  # mail.exim_config's real path, when set

    def installed(self) -> Installed:
        macro = self.exim.macro(MACRO)
        wanted = str(self.flags.directory).rstrip("/")
        macro_ok = macro is not None and macro.rstrip("/") == wanted
        config = self.config_path or self._config_file()
        sections = _sections(_text(config)) if config else {}
        acl, routers = sections.get("acl", ""), sections.get("routers", "")
        return Installed(
            macro,
            macro_ok,
            sum(acl.count(f"{d}/stop-outbound") for d in (MACRO, wanted)),
            any(f"{d}/stop-outbound" in routers for d in (MACRO, wanted)),
            any(f"{d}/stop-inbound" in acl for d in (MACRO, wanted)),
            str(config or ""),
        )

    def refuses_smtp(self) -> bool:
        """Whether Exim answers an SMTP connection with CSM's 421 now (``exim -bh``: a fake
        session that runs the connect ACL and delivers nothing)."""
        done = self.exim.host.runner(
            self.exim.argv("-bh", PROBE_CLIENT),
            timeout=self.exim.mail.command_timeout,
            stdin=b"QUIT\r\n",
            check=False,
        )
        replies = [line for line in done.text.splitlines() if line.startswith("421")]
        return any(REFUSED in line for line in replies)

    def _config_file(self) -> Path | None:
        done = self.exim.run("-bV")
        for line in done.text.splitlines():
            if line.startswith("Configuration file is "):
                return Path(line.removeprefix("Configuration file is ").strip())
        return None


def _text(path: Path) -> str:
    """The configuration's text with its ``.include`` files in place (as far as readable)."""
    reads = [0]

    def read(file: Path, within: tuple[Path, ...]) -> str:
        if file in within or reads[0] >= MAX_FILES:  # an include loop, or far too many
            return ""
        reads[0] += 1
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        inner = (*within, file)
        return INCLUDE.sub(lambda m: read(Path(m.group(1)), inner), COMMENT.sub("", text))

    return read(path, ())


def _sections(text: str) -> dict[str, str]:
    """The configuration split at its ``begin`` lines ("main" before the first)."""
    found: dict[str, str] = {}
    name, start = "main", 0
    for match in SECTION.finditer(text):
        found[name] = found.get(name, "") + text[start : match.start()]
        name, start = match.group(1), match.end()
    found[name] = found.get(name, "") + text[start:]
    return found
