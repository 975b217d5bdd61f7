"""Exceptions raised by the kiosk."""


class KioskError(Exception):
    """Root of every error the kiosk raises."""


class CacheError(KioskError):
    """The kiosk's cache file cannot be opened or written."""


class FlowError(KioskError):
    """A touch that the current screen cannot take (a stale button, a wrong step)."""
