"""LED and buzzer feedback: each ``Signal`` as a pattern of light and sound."""

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from gpiozero import LED, Buzzer
from gpiozero.exc import GPIOZeroError

from hardware.errors import HardwareError
from hardware.signals import Signal

log = logging.getLogger(__name__)


class Feedback(Protocol):
    """Anything that can show a ``Signal`` to the person at the door."""

    def show(self, signal: Signal) -> None:
        """Start showing ``signal``; returns at once."""

    def close(self) -> None:
        """Go dark and release the outputs; safe twice."""


@dataclass(frozen=True)
class Blink:
    """``count`` flashes of ``on_s`` seconds with ``off_s`` between (count None: forever)."""

    on_s: float
    off_s: float
    count: int | None


# What each output does for each signal; None leaves that output off.
PATTERNS: dict[Signal, dict[str, Blink | None]] = {
    Signal.GRANTED: {"green": Blink(1.5, 0.0, 1), "red": None, "buzzer": Blink(0.1, 0.0, 1)},
    Signal.DENIED: {"green": None, "red": Blink(0.2, 0.2, 3), "buzzer": Blink(0.1, 0.1, 3)},
    Signal.OFFLINE: {"green": None, "red": Blink(0.1, 1.9, None), "buzzer": None},
    Signal.IDLE: {"green": None, "red": None, "buzzer": None},
}


class NoFeedback:
    """A door without LEDs or buzzer."""

    def show(self, signal: Signal) -> None:
        """Nothing to show."""
        del signal

    def close(self) -> None:
        """Nothing to release."""


class GpioFeedback:
    """Green LED, red LED and buzzer on GPIO pins (each optional)."""

    def __init__(
        self,
        *,
        green_pin: int | str | None = None,
        red_pin: int | str | None = None,
        buzzer_pin: int | str | None = None,
        pin_factory: Any = None,
    ) -> None:
        self.outputs: dict[str, Any] = {}
        try:
            if green_pin is not None:
                self.outputs["green"] = LED(green_pin, pin_factory=pin_factory)
            if red_pin is not None:
                self.outputs["red"] = LED(red_pin, pin_factory=pin_factory)
            if buzzer_pin is not None:
                self.outputs["buzzer"] = Buzzer(buzzer_pin, pin_factory=pin_factory)
        except (GPIOZeroError, OSError, RuntimeError) as err:
            self.close()
            raise HardwareError(f"cannot open feedback pins: {err}") from err

    def show(self, signal: Signal) -> None:
        """Start ``signal``'s pattern in the background, replacing the one running."""
        for name, device in self.outputs.items():
            blink = PATTERNS[signal][name]
            if blink is None:
                device.off()
            else:
                device.blink(on_time=blink.on_s, off_time=blink.off_s, n=blink.count)

    def close(self) -> None:
        """Switch everything off and release the pins; safe twice."""
        for device in self.outputs.values():
            device.close()


class ReaderFeedback:
    """Feedback through the reader's own LED and buzzer (OSDP readers)."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def show(self, signal: Signal) -> None:
        """Ask the reader to show ``signal``; logged if it cannot."""
        if not self._reader.signal(signal):
            log.debug("reader cannot show %s", signal)

    def close(self) -> None:
        """The reader owns its outputs; nothing to release."""
