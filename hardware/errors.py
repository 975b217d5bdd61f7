"""Exceptions raised by the hardware layer."""


class HardwareError(Exception):
    """Root of every error the hardware layer raises."""
