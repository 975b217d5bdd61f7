"""Exceptions raised by the kiosk."""


class KioskError(Exception):
    """Root of every error the kiosk raises."""


class CacheError(KioskError):
    """The kiosk's cache file cannot be opened or written."""
