"""``csm install --tls``: a self-signed certificate for the web UI and the API, made by
``openssl`` (its PEM files read back and written through the one atomic writer, the key
0600), and a drop-in that points ``api.tls_cert``/``api.tls_key`` at it."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from csm.host import Runner

TLS_DIR = "/etc/csm/tls"
CERT = f"{TLS_DIR}/csm.crt"
KEY = f"{TLS_DIR}/csm.key"
DROPIN = "/etc/csm/conf.d/50-tls.yaml"
DAYS = 825  # the longest validity browsers accept for a server certificate
OPENSSL = "openssl"
DROPIN_TEXT = f"""\
# Written by `csm install --tls`: HTTPS for the web UI and the API, with a self-signed
# certificate (replace both files with your own to use another; then restart csm).
api:
  tls_cert: {CERT}
  tls_key: {KEY}
"""


@dataclass(frozen=True, slots=True)
class Pair:
    certificate: bytes
    key: bytes


def self_signed(runner: Runner, name: str) -> Pair:
    """A new RSA key and a certificate for ``name``, ``localhost``, 127.0.0.1 and ::1."""
    names = f"DNS:{name},DNS:localhost,IP:127.0.0.1,IP:::1"
    with tempfile.TemporaryDirectory(prefix="csm-tls-") as scratch:
        key, cert = Path(scratch) / "key.pem", Path(scratch) / "cert.pem"
        runner(
            [
                OPENSSL,
                "req",
                "-x509",
                "-newkey",
                "rsa:3072",
                "-sha256",
                "-nodes",
                "-days",
                str(DAYS),
                "-subj",
                f"/CN={name}",
                "-addext",
                f"subjectAltName={names}",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            timeout=120,
        )
        return Pair(cert.read_bytes(), key.read_bytes())
