"""What a door tells the person at it, by light and sound."""

import enum


class Signal(enum.StrEnum):
    """A feedback pattern; each output (GPIO, OSDP reader) renders it its own way."""

    GRANTED = "granted"
    DENIED = "denied"
    OFFLINE = "offline"
    IDLE = "idle"
