"""The Citadel adapter: the client protocol, the outbound queue room, the site configuration."""
