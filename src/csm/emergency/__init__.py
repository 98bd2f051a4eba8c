"""The server-wide mail emergency stop: ``csm mail stop|resume outbound|inbound`` and
``csm mail emergency status``."""
