"""Incidents: findings correlated into one escalating story per account, mailbox or attacker."""
