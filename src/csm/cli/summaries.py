"""Each top-level command's one-line help, for `csm --help`.  Generated from the
commands' own ``short_help`` by `make docs` (a test checks it is current)."""

SUMMARIES: dict[str, str] = {
    "accounts": "Hosting accounts: list, show, map, review.",
    "backup": "Back up config and state; verify an archive.",
    "check-logs": "Run the mail detectors over log files.",
    "config": "Show the effective configuration.",
    "creds": "Credentials: plan, rotate, defer, status.",
    "daemon": "Run the continuous monitor: follow the logs, schedules, control socket.",
    "db": "Database objects and WordPress users: list, drop or remove (kept), restore.",
    "doctor": "Diagnose the installation; each problem with its fix.",
    "drill": "Build a simulated hosting server to rehearse on.",
    "firewall": "Block and unblock IPs and networks (nftables, table inet csm).",
    "forensic-snapshot": "Preserve an account's evidence in a checksummed archive.",
    "incidents": "List, show, review and change incidents.",
    "install": "Install the systemd unit, default config, logrotate rules.",
    "mail": "Stop and resume all mail; hold an account's outgoing mail; a mailbox's day.",
    "quarantine": "Quarantine a file; list; restore.",
    "queue": "The mail queue: views, review, decisions, actions.",
    "restore": "Restore a backup (the daemon stopped).",
    "scan": "Scan an account's files (webshells) and databases (triggers, rogue admins).",
    "status": "Show a health snapshot (daemon, store, incidents).",
    "store": "Manage the state store (create, migrate).",
    "uninstall": "Remove the systemd unit and logrotate rules (data kept).",
    "validate": "Validate the configuration; list every error.",
    "version": "Print the version and build.",
}
