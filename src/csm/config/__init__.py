"""Configuration: the pydantic model (the single source of settings) and the YAML loader."""
