"""Exceptions raised by the hardware layer."""


class HardwareError(Exception):
    """Root of every error the hardware layer raises."""


class ReaderError(HardwareError):
    """A card reader could not be opened or stopped answering."""


class FrameError(ReaderError):
    """A reader sent bytes that are not a valid card frame."""


class LockError(HardwareError):
    """The lock driver could not be opened or did not take a command."""


class EmulatorError(HardwareError):
    """The card emulator was given a card it cannot emulate."""
