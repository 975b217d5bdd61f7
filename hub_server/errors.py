"""Exceptions raised by the hub server."""


class HubError(Exception):
    """Root of every error the hub server raises."""
