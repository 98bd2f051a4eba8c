"""Forensic snapshots: an account's evidence preserved in a byte-stable, checksummed archive
before anything is changed (``csm forensic-snapshot``; runbook step 3)."""
