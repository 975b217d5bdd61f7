"""Configuration of the hub server (``hub.toml``)."""

from hublink.config import ServiceConfig


class HubConfig(ServiceConfig):
    """Everything ``hubtap server`` reads."""
