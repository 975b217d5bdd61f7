"""Door contact and request-to-exit button, through gpiozero ``Button``."""

import logging
import time
from collections.abc import Callable
from typing import Any

from gpiozero import Button
from gpiozero.exc import GPIOZeroError

from hardware.errors import HardwareError

log = logging.getLogger(__name__)


def _guarded(name: str, callback: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            callback()
        except Exception:
            log.exception("%s handler failed", name)

    return run


class _Switch:
    """A switch on a gpiozero ``Button``: opening it, its pin, closing it."""

    def __init__(self, pin: int | str, pull_up: bool, bounce_s: float, pin_factory: Any) -> None:
        try:
            self._button = Button(
                pin, pull_up=pull_up, bounce_time=bounce_s or None, pin_factory=pin_factory
            )
        except (GPIOZeroError, OSError, RuntimeError) as err:
            raise HardwareError(f"cannot open input pin {pin}: {err}") from err

    @property
    def pin(self) -> Any:
        """The gpiozero pin (a ``MockPin`` under the mock factory)."""
        return self._button.pin

    def close(self) -> None:
        """Release the pin; safe twice."""
        self._button.close()


class DoorContact(_Switch):
    """Whether the door is open; calls ``on_change(is_open)`` on every change."""

    def __init__(
        self,
        pin: int | str,
        *,
        pull_up: bool = True,
        bounce_s: float = 0.05,
        closed_when_pressed: bool = True,
        pin_factory: Any = None,
    ) -> None:
        super().__init__(pin, pull_up, bounce_s, pin_factory)
        self._closed_when_pressed = closed_when_pressed
        self._on_change: Callable[[bool], None] = lambda is_open: None
        self._reported: bool | None = None
        report = _guarded("door contact", self._changed)
        self._button.when_pressed = report
        self._button.when_released = report

    def _changed(self) -> None:
        is_open = self.is_open
        if is_open != self._reported:  # a bounce that ends where it began is no change
            self._reported = is_open
            self._on_change(is_open)

    @property
    def is_open(self) -> bool:
        """True while the door stands open."""
        return bool(self._button.is_pressed) != self._closed_when_pressed

    def on_change(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(is_open)`` whenever the door opens or closes."""
        self._on_change = callback


class ExitButton(_Switch):
    """The request-to-exit button; calls ``on_press()`` once per press."""

    def __init__(
        self,
        pin: int | str,
        *,
        pull_up: bool = True,
        bounce_s: float = 0.05,
        pin_factory: Any = None,
    ) -> None:
        super().__init__(pin, pull_up, bounce_s, pin_factory)
        self._bounce_s = bounce_s
        self._last_press = -float("inf")
        self._on_press: Callable[[], None] = lambda: None
        self._button.when_pressed = _guarded("exit button", self._pressed)

    @property
    def is_pressed(self) -> bool:
        """True while the button is held."""
        return bool(self._button.is_pressed)

    def _pressed(self) -> None:
        # Debounced here too: not every pin factory (the mock one among them)
        # filters bounce, and a bouncing button must not count as many presses.
        now = time.monotonic()
        if now - self._last_press < self._bounce_s:
            return
        self._last_press = now
        self._on_press()

    def on_press(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` on each press."""
        self._on_press = callback
