"""gpiozero pin factories, chosen by ``[gpio] pin_factory``."""

from typing import Any

from hardware.errors import HardwareError


def make_pin_factory(name: str) -> Any:
    """A gpiozero pin factory by name; None lets gpiozero pick its default."""
    try:
        if name == "default":
            return None
        if name == "mock":
            from gpiozero.pins.mock import MockFactory  # noqa: PLC0415 - chosen by config

            return MockFactory()
        if name == "lgpio":
            from gpiozero.pins.lgpio import LGPIOFactory  # noqa: PLC0415

            return LGPIOFactory()
        if name == "rpigpio":
            from gpiozero.pins.rpigpio import RPiGPIOFactory  # noqa: PLC0415

            return RPiGPIOFactory()
        if name == "native":
            from gpiozero.pins.native import NativeFactory  # noqa: PLC0415

            return NativeFactory()
    except (ImportError, OSError, RuntimeError) as err:
        raise HardwareError(f"gpio pin factory {name!r} is not usable here: {err}") from err
    raise HardwareError(f"unknown gpio pin factory {name!r}")
