"""What ``csm install`` writes: the systemd unit, logrotate's rules, the first config."""

from __future__ import annotations

MARK = "# Installed by `csm install`; `csm uninstall` removes it.\n"
UNIT_PATH = "/etc/systemd/system/csm.service"
LOGROTATE_PATH = "/etc/logrotate.d/csm"
CONFIG_PATH = "/etc/csm/csm.yaml"
DROPIN_DIR = "/etc/csm/conf.d"


def unit(executable: str) -> str:
    """A notify service with a watchdog, restarted always.  The hardening keeps what CSM
    needs: reading the logs and /home, running ``exim`` (setuid root, so no
    NoNewPrivileges) and MariaDB's client, writing its state, logs and quarantine."""
    return f"""{MARK}[Unit]
Description=CSM security monitor (logs, incidents, schedules)
Documentation=https://example.invalid/csm/docs/runbook.md
After=network-online.target exim.service mariadb.service
Wants=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={executable} daemon
ExecReload=/bin/kill -HUP $MAINPID
Restart=always
RestartSec=5
WatchdogSec=60
TimeoutStopSec=120
RuntimeDirectory=csm
RuntimeDirectoryMode=0750
UMask=0077
ProtectSystem=full
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
MemoryHigh=300M
MemoryMax=600M

[Install]
WantedBy=multi-user.target
"""


def logrotate(log_dir: str) -> str:
    """CSM's own logs: the audit log is opened for each entry, so it is rotated by rename."""
    return f"""{MARK}{log_dir.rstrip("/")}/*.jsonl {{
    weekly
    rotate 52
    compress
    delaycompress
    missingok
    notifempty
    create 0600 root root
}}
"""


CONFIG = f"""{MARK}# CSM's configuration: `csm config show` prints every setting with its value,
# `csm validate` checks this file and conf.d/*.yaml.  Everything has a default; set what
# differs on this host.  Reload a running daemon with `systemctl reload csm`.
#
# hostname: server1.example.com
# mail:
#   mta: exim
#   exim_mainlog: /var/log/exim_mainlog
#   maillog: /var/log/maillog
# daemon:
#   scan_critical_every: 10m
#   scan_deep_every: 60m
paths:
  root: /
"""
