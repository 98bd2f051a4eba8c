"""The SQLite state store: the one owner of ``csm.db``, its migrations and its lock."""
