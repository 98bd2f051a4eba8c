"""Health: ``csm status`` (what is going on) and ``csm doctor`` (what is wrong, and the fix)."""
