"""A stand-in for systemd's ``systemctl`` in tests: :func:`write_systemctl` writes an executable
script that CSM's service manager can run instead of the real one, next to a
:class:`tests.citadel_standin.CitadelStandIn`.

The script appends its argv (``sys.argv``, its own path first) as one JSON line to the log,
then:

- ``daemon-reload``: exits 0 (there is no systemd to reload);
- ``restart <unit>`` / ``restart <unit>.service``: connects to the stand-in's control socket,
  sends ``RESTART``, waits for ``OK`` (the stand-in has then closed its sessions and read the
  unit's drop-ins again) and exits 0; it exits 1, with the reason on stderr, when the stand-in
  does not answer;
- anything else: exits 0.

Options (words starting with ``-``) are logged and otherwise ignored.  The shebang names the
interpreter running the tests (``sys.executable``): ``/usr/bin/env python3`` may find another.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPT = '''\
#!{python}
"""A stand-in for systemd's systemctl in tests (written by tests/citadel_systemctl.py)."""

import json
import socket
import sys

CONTROL = {control!r}
LOG = {log!r}


def restart(unit):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(CONTROL)
            sock.sendall(b"RESTART\\n")
            answer = b""
            while not answer.endswith(b"\\n"):
                chunk = sock.recv(1024)
                if not chunk:
                    break
                answer += chunk
    except OSError as exc:
        print(f"systemctl (stand-in): cannot restart {{unit}}: {{exc}}", file=sys.stderr)
        return 1
    if answer.strip() != b"OK":
        print(f"systemctl (stand-in): {{unit}}: answered {{answer!r}}", file=sys.stderr)
        return 1
    return 0


def main(argv):
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(argv) + "\\n")
    words = [word for word in argv[1:] if not word.startswith("-")]
    if words[:1] == ["restart"] and len(words) >= 2:
        return restart(words[1])
    return 0


sys.exit(main(sys.argv))
'''


def write_systemctl(path: Path, control_socket: Path, log: Path) -> Path:
    """Write the stand-in ``systemctl`` at ``path`` (mode 0755), talking to the stand-in's
    ``control_socket`` and logging each call to ``log``; ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = SCRIPT.format(python=sys.executable, control=str(control_socket), log=str(log))
    path.write_text(text)
    path.chmod(0o755)
    return path
