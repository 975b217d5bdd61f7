"""A lock relay on a GPIO pin, through gpiozero."""

from typing import Any

from gpiozero import DigitalOutputDevice
from gpiozero.exc import GPIOZeroError

from hardware.errors import LockError
from hardware.lock import Lock


class GpioLock(Lock):
    """Drives a relay (or MOSFET) pin; released, the door is locked."""

    def __init__(
        self,
        pin: int | str,
        *,
        active_high: bool = True,
        max_unlock_s: float = 30.0,
        pin_factory: Any = None,
        name: str = "lock",
    ) -> None:
        try:
            self._device = DigitalOutputDevice(
                pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
            )
        except (GPIOZeroError, OSError, RuntimeError) as err:
            raise LockError(f"cannot open lock pin {pin}: {err}") from err
        super().__init__(name, max_unlock_s)

    def _set_output(self, energised: bool) -> None:
        if energised:
            self._device.on()
        else:
            self._device.off()

    def _release_device(self) -> None:
        self._device.close()

    @property
    def pin(self) -> Any:
        """The gpiozero pin object (a ``MockPin`` under the mock factory)."""
        return self._device.pin
