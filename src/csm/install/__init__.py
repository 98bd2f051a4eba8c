"""``csm install`` / ``csm uninstall``: the systemd unit, the default configuration, the
logrotate rules and CSM's directories on a host (or under ``--root`` for a test)."""
