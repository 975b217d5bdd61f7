"""Exceptions raised by the door controller."""


class DoorError(Exception):
    """Root of every error the door controller raises."""
