"""``hubtap-door check-hardware``: what an installer runs after wiring a door."""

import threading
import time
from typing import TextIO

from hardware.build import DoorHardware, open_door_hardware
from hardware.config import DoorHardwareConfig, InputConfig
from hardware.errors import HardwareError
from hardware.signals import Signal
from hardware.taps import CardTap

READER_OPEN_TIMEOUT_S = 10.0
PULSE_S = 1.0


def check_hardware(
    config: DoorHardwareConfig, out: TextIO, wait_s: float = 30.0, pulse: bool = True
) -> int:
    """Open the door's hardware and check it; 0 if all worked, 1 if not."""
    try:
        hardware = open_door_hardware(config)
    except HardwareError as err:
        print(f"FAIL  cannot open the hardware: {err}", file=out)
        return 1
    with hardware:
        return check_open_hardware(hardware, out, wait_s, pulse)


def check_open_hardware(
    hardware: DoorHardware, out: TextIO, wait_s: float = 30.0, pulse: bool = True
) -> int:
    """List the hardware, wait for one tap, pulse the lock; 0 if all worked, 1 if not."""
    _list(hardware, out)
    ok = _await_tap(hardware, out, wait_s)
    if pulse:
        ok = _pulse(hardware, out) and ok
    print("All checks passed." if ok else "Some checks failed.", file=out)
    return 0 if ok else 1


def _list(hardware: DoorHardware, out: TextIO) -> None:
    config = hardware.config
    print(f"gpio     pin factory {config.gpio.pin_factory}", file=out)
    where = getattr(config.lock, "pin", None) or getattr(config.lock, "port", "?")
    print(f"OK    lock      {config.lock.kind} on {where}: locked", file=out)
    contact, button = hardware.door_contact, hardware.exit_button
    _input(
        out, "contact", config.door_contact, f"door {_open(contact.is_open)}" if contact else None
    )
    _input(out, "exit", config.exit_button, _pressed(button.is_pressed) if button else None)
    print(f"OK    feedback  {config.feedback.kind}", file=out)


def _input(out: TextIO, label: str, config: InputConfig | None, state: str | None) -> None:
    if config is None or state is None:
        print(f"--    {label:<9} not configured", file=out)
    else:
        print(f"OK    {label:<9} pin {config.pin}: {state}", file=out)


def _open(is_open: bool) -> str:
    return "open" if is_open else "closed"


def _pressed(is_pressed: bool) -> str:
    return "pressed" if is_pressed else "released"


def _await_tap(hardware: DoorHardware, out: TextIO, wait_s: float) -> bool:
    reader = hardware.reader
    taps: list[CardTap] = []
    tapped = threading.Event()

    def on_tap(tap: CardTap) -> None:
        taps.append(tap)
        tapped.set()

    reader.start(on_tap)
    deadline = time.monotonic() + READER_OPEN_TIMEOUT_S
    while not reader.wait_open(0.05) and not reader.stats.errors:  # open, or its first failure
        if time.monotonic() > deadline:
            break
    if not reader.is_open:
        print(
            f"FAIL  reader    {reader.driver.description}: not found "
            f"({reader.stats.last_error or 'no answer'})",
            file=out,
        )
        return False
    print(f"OK    reader    {reader.driver.description}", file=out)
    print(f"      tap a card on the reader (waiting {wait_s:.0f} s) ...", file=out, flush=True)
    if not tapped.wait(wait_s):
        print("FAIL  no card was read", file=out)
        return False
    tap = taps[0]
    hardware.feedback.show(Signal.GRANTED)
    print(
        f"OK    card      {tap.uid_hex} ({tap.kind}, {len(tap.uid)} bytes), "
        f"read in {tap.read_latency_s * 1000:.1f} ms",
        file=out,
    )
    return True


def _pulse(hardware: DoorHardware, out: TextIO) -> bool:
    print(f"      pulsing the lock for {PULSE_S:.0f} s ...", file=out, flush=True)
    hardware.lock.unlock_for(PULSE_S)
    threading.Event().wait(PULSE_S + 0.1)
    state = "locked again" if hardware.lock.locked else "STILL UNLOCKED"
    print(f"{'OK' if hardware.lock.locked else 'FAIL':<6}lock      {state}", file=out)
    return hardware.lock.locked
