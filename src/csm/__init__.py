"""CSM: security monitor and incident-response tool for shared web and mail hosting servers."""
