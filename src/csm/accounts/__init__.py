"""Hosting accounts: who owns a domain, a mailbox, a path."""
