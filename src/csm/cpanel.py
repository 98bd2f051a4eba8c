"""cPanel's command-line APIs (``uapi``, ``whmapi1``) through the host's one subprocess seam,
with ``--output=json``.  An API error (``status: 0`` / ``result: 0``) becomes a typed error
carrying cPanel's own message.  Arguments are validated by the caller; passwords travel as
``key=value`` arguments because that is how these tools take them, and are never logged."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Any

from csm.errors import CommandNotFoundError, PanelApiError
from csm.host import Host


@dataclass(frozen=True, slots=True)
class Cpanel:
    host: Host
    uapi_bin: str
    whmapi1_bin: str
    timeout: float

    def uapi(self, user: str, module: str, function: str, args: dict[str, str]) -> Any:
        """``uapi --output=json --user=USER Module function key=value…``: the reply's data."""
        argv = [self.uapi_bin, "--output=json", f"--user={user}", module, function]
        reply = self._call(argv, args, f"uapi {module}::{function}")
        result = reply.get("result") if isinstance(reply, dict) else None
        if not isinstance(result, dict) or result.get("status") != 1:
            raise PanelApiError(f"uapi {module}::{function} for {user}: {_errors(result)}")
        return result.get("data")

    def whmapi1(self, function: str, args: dict[str, str]) -> Any:
        """``whmapi1 --output=json function key=value…``: the reply's data."""
        reply = self._call([self.whmapi1_bin, "--output=json", function], args, function)
        meta = reply.get("metadata") if isinstance(reply, dict) else None
        if not isinstance(meta, dict) or meta.get("result") != 1:
            reason = meta.get("reason") if isinstance(meta, dict) else "no reply"
            raise PanelApiError(f"whmapi1 {function}: {reason}")
        return reply.get("data")

    def missing(self, tool: str) -> str:
        """Where ``tool`` (``uapi`` or ``whmapi1``) should be, when it is not there; else ""."""
        path = self.whmapi1_bin if tool == "whmapi1" else self.uapi_bin
        return "" if shutil.which(path) else path

    def _call(self, argv: list[str], args: dict[str, str], what: str) -> Any:
        argv += [f"{key}={value}" for key, value in args.items()]
        try:
            done = self.host.runner(argv, timeout=self.timeout, check=False)
        except CommandNotFoundError:
            tool = "whmapi1" if argv[0] == self.whmapi1_bin else "uapi"
            raise CommandNotFoundError(
                f"{what}: cPanel's {tool} is not at {argv[0]}",
                fix=f"on a cPanel server set cpanel.{tool}_bin to where {tool} is; on a server"
                " without cPanel set hosting.panel: plain",
            ) from None
        try:
            return json.loads(done.stdout)
        except ValueError:
            status = f"exit status {done.returncode}"
            raise PanelApiError(f"{what}: not a JSON reply ({status})") from None


def _errors(result: object) -> str:
    if not isinstance(result, dict):
        return "no result in the reply"
    errors = result.get("errors") or ["failed, with no message"]
    return "; ".join(str(e) for e in errors)
