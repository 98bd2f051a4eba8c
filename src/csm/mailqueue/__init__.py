"""The mail queue: reading, summarising and acting on queued messages."""
