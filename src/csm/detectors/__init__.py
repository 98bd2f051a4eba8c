"""Detectors: turn parsed log lines and files into findings."""
