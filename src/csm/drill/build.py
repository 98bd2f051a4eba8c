"""``csm drill build DIR``: a realistic cPanel host tree, deterministic for a seed.

The tree holds the cPanel account files, mailboxes, WordPress sites, an Exim runtime config
whose spool and logs are inside DIR (``queue_only``, no transports: nothing can leave the
machine), CSM's own config at ``DIR/etc/csm/csm.yaml`` with ``paths.root: DIR``, and CSM's
state, so that ``CSM_CONFIG=DIR/etc/csm/csm.yaml csm …`` works on it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from csm import mysql
from csm.audit import AuditLog
from csm.clock import Clock
from csm.config.incidents import IncidentsConfig
from csm.config.model import MysqlConfig
from csm.drill import cpanel, databases, incidents, maillog, standins, wordpress
from csm.drill.plan import Account, host_tag, plan
from csm.drill.tree import Tree
from csm.errors import RefusedError
from csm.host import Host
from csm.incidents.service import Incidents
from csm.store.db import STATE_DIR_MODE, Store

MARKER = ".csm-drill.json"
CONFIG = "/etc/csm/csm.yaml"
EXIM_CONFIG = "/etc/exim4/csm-drill.conf"
EXIM_SPOOL = "/var/spool/exim"
EXIM_SNIPPETS = "/etc/exim4/csm"
FLAG_DIR = "/var/lib/csm/mail"  # mail.emergency.flag_dir's default
SNIPPETS = ("emergency-outbound.acl", "emergency-inbound.acl", "emergency-router.conf")
HOSTNAME = "server1.drill.test"
CPANEL_BIN = "/usr/local/cpanel/bin"


@dataclass(frozen=True, slots=True)
class DrillHost:
    root: Path
    seed: int
    config_path: Path
    exim_bin: str
    accounts: tuple[Account, ...]
    databases: tuple[str, ...] = ()  # the WordPress schemas created in MariaDB
    api_tokens: dict[str, str] = field(default_factory=dict)  # scope -> the web UI's token


def build(root: Path, seed: int, clock: Clock, *, with_databases: bool = False) -> DrillHost:
    """Build (or rebuild, when DIR holds an earlier drill) the simulated host under ``root``;
    with ``with_databases``, its WordPress databases in the configured MariaDB too."""
    tokens = _api_tokens(root.absolute() / CONFIG.lstrip("/"))  # before an earlier drill goes
    root = _prepare(root.absolute())
    tree = Tree(Host(root))
    accounts = plan(seed, tag=host_tag(str(root)))
    cpanel.write_host_files(tree, accounts)
    for account in accounts:
        wordpress.write_sites(tree, account)
    tree.write(f"{accounts[1].home}/{incidents.WEBSHELL}", incidents.WEBSHELL_TEXT, 0o644)
    exim = _find_exim()
    _write_mail_server(tree, root, accounts, seed)
    tree.write("/root/.my.cnf", _my_cnf(), 0o600)
    for tool in standins.TOOLS:
        tree.write(f"{CPANEL_BIN}/{tool}", _standin(root, tool), 0o755)
    tree.write(CONFIG, _csm_yaml(root, seed, exim, tokens), 0o600)
    tree.mkdir("/etc/csm/conf.d", 0o700)
    _init_state(tree, clock, accounts)
    tree.write(
        f"/{MARKER}", json.dumps({"seed": seed, "accounts": [a.user for a in accounts]}) + "\n"
    )
    made: list[str] = []
    if with_databases:
        creds = mysql.credentials(MysqlConfig(defaults_file="/root/.my.cnf"), Host(root))
        made = databases.create(creds, accounts, MysqlConfig().connect_timeout)
    config = root / CONFIG.lstrip("/")
    return DrillHost(root, seed, config, exim, accounts, tuple(made), tokens)


def _prepare(root: Path) -> Path:
    """An empty or new directory, or an earlier drill (which is cleared); nothing else."""
    if root.exists() and not root.is_dir():
        raise RefusedError(f"{root} exists and is not a directory")
    if root.is_dir() and any(root.iterdir()):
        if not (root / MARKER).is_file():
            raise RefusedError(
                f"{root} is not empty and holds no earlier drill ({MARKER}); refusing to touch it",
                fix="choose an empty or new directory",
            )
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)  # noqa: S103 - a host root is world-readable, like /
    return root


def _find_exim() -> str:
    for candidate in ("/usr/sbin/exim", "/usr/sbin/exim4"):
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("exim") or shutil.which("exim4") or "/usr/sbin/exim"


def _write_mail_server(tree: Tree, root: Path, accounts: tuple[Account, ...], seed: int) -> None:
    tree.mkdir(EXIM_SPOOL, 0o750)
    tree.mkdir("/var/log", 0o755)
    day = maillog.generate(accounts, seed)
    tree.write("/var/log/exim_mainlog", "\n".join(day.mainlog) + "\n", 0o640)
    tree.write("/var/log/maillog", "\n".join(day.maillog) + "\n", 0o640)
    for name in SNIPPETS:  # installed as an operator would: copied next to the configuration
        snippet = resources.files("csm.config").joinpath(f"exim/{name}").read_text()
        tree.write(f"{EXIM_SNIPPETS}/{name}", snippet, 0o644)
    tree.write(EXIM_CONFIG, exim_config(root), 0o644)


def exim_config(root: Path) -> str:
    """Exim runtime config for ``-C``: queue only, every address defers, logs and spool in DIR;
    CSM's emergency stop snippets installed (the flags in DIR)."""
    snippets = f"{root}{EXIM_SNIPPETS}"
    return f"""# Exim runtime config for a CSM drill host: messages are queued and never delivered.
CSM_MAIL_FLAGS = {root}{FLAG_DIR}
domainlist local_domains = @ : localhost
primary_hostname = {HOSTNAME}
qualify_domain = {HOSTNAME}
# Root-owned, 0700 test directories (pytest's tmp_path) must be usable by Exim.
exim_user = root
exim_group = root
spool_directory = {root}{EXIM_SPOOL}
split_spool_directory = true
log_file_path = {root}/var/log/exim_%slog
keep_environment =
queue_only = true
queue_only_override = false
delay_warning = 0s
daemon_smtp_ports =
local_interfaces = 127.0.0.1
acl_smtp_connect = acl_check_connect
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data
acl_not_smtp = acl_check_not_smtp

begin acl

acl_check_connect:
.include {snippets}/emergency-inbound.acl
  accept

acl_check_rcpt:
  accept

acl_check_data:
.include {snippets}/emergency-outbound.acl
  accept

acl_check_not_smtp:
.include {snippets}/emergency-outbound.acl
  accept

begin routers

.include {snippets}/emergency-router.conf

defer_all:
  driver = redirect
  data = :defer: delivery disabled on a drill host
  allow_defer

begin transports

begin retry

# Without a retry rule a forced delivery would bounce and remove the message.
*   *   F,3650d,1d
"""


def _my_cnf() -> str:
    return "[client]\nuser=root\npassword=\nhost=127.0.0.1\nport=3306\n"


def _standin(root: Path, tool: str) -> str:
    """The host's ``uapi``/``whmapi1``: the drill's stand-in, run on this host's root."""
    script = standins.DIRECTORY / tool
    return f"""#!{sys.executable}
# cPanel's `{tool}` on a simulated host built by `csm drill build`: the drill's stand-in.
import os
import sys

os.environ["CSM_STANDIN_ROOT"] = {str(root)!r}
os.execv(sys.executable, [sys.executable, {str(script)!r}, *sys.argv[1:]])
"""


def _api_tokens(config: Path) -> dict[str, str]:
    """The web UI's read and admin tokens: new ones, or the earlier drill's (a rebuild keeps
    them, so a browser logged in stays logged in and the same seed builds the same host)."""
    tokens = {"read": secrets.token_urlsafe(24), "admin": secrets.token_urlsafe(24)}
    try:
        earlier = yaml.safe_load(config.read_text())["api"]["tokens"]
        tokens |= {str(t["scope"]): str(t["token"]) for t in earlier if t["scope"] in tokens}
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        pass  # no earlier drill here (or not one of ours): new tokens
    return tokens


def _csm_yaml(root: Path, seed: int, exim_bin: str, tokens: dict[str, str]) -> str:
    bins = {f"{tool}_bin": str(root / CPANEL_BIN.lstrip("/") / tool) for tool in standins.TOOLS}
    data = {
        "hostname": HOSTNAME,
        "paths": {"root": str(root)},
        "mail": {"mta": "exim", "exim_bin": exim_bin, "exim_config": EXIM_CONFIG},
        "mysql": {"defaults_file": "/root/.my.cnf"},
        "cpanel": bins,
        "api": {  # any free port: `csm status` shows the address
            "listen": "127.0.0.1:0",
            "tokens": [
                {"name": f"drill-{scope}", "token": token, "scope": scope}
                for scope, token in tokens.items()
            ],
        },
    }
    header = f"# Simulated cPanel host built by `csm drill build` (seed {seed}).\n"
    return header + yaml.safe_dump(data, sort_keys=False)


def _init_state(tree: Tree, clock: Clock, accounts: tuple[Account, ...]) -> None:
    """CSM's state, with the incidents the host starts with already recorded."""
    state = tree.mkdir("/var/lib/csm/state", STATE_DIR_MODE)
    logs = tree.mkdir("/var/log/csm", 0o700)
    store = Store.open(state, clock=clock)
    try:
        service = Incidents(store, IncidentsConfig(), clock, AuditLog(store, logs, clock))
        service.record(incidents.findings(accounts, clock.now()))
    finally:
        store.close()
