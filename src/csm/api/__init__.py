"""The HTTP API and web UI the daemon serves (issue #19): authentication first."""
