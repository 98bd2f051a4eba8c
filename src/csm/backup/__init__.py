"""CSM's own backups: ``csm backup`` (a consistent copy while the daemon runs), ``csm backup
verify`` and ``csm restore`` (validated and staged before anything live is touched)."""
