"""``unlock_for`` call → lock pin energised, and how exactly the lock relocks.

A ``GpioLock`` drives a pin of gpiozero's ``MockFactory`` whose pins record
``time.perf_counter()`` the moment their state is set (before gpiozero's mock
bookkeeping, which stands in for the hardware write).

- ``energise``: per sample, ``t0 = perf_counter()``, ``lock.unlock_for(5)``;
  latency = when the pin went high - ``t0``. Then ``lock.lock()``, and the pin
  must be low again. ``call`` is the same call's return time, for comparison.
- ``relock``: ``unlock_for(0.05)`` and let the lock's timer thread relock it;
  overshoot = how long the pin was actually high - 0.05 s.

This is the software path on mock pins: on a Raspberry Pi, gpiozero's lgpio
factory adds the GPIO write itself (a system call into the GPIO character
device) to every figure.
"""

import argparse
import gc
import threading
import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin

from benchmarks.common import (
    BenchmarkError,
    Result,
    count_parser,
    emit,
    has_error,
    latency_summary,
    parse_counted,
)
from hardware.errors import LockError
from hardware.gpio_lock import GpioLock

DEFAULT_COUNT = 10_000
WARMUP = 1_000
PIN = 17
UNLOCK_S = 5.0
"""Long enough that the timer never relocks during an ``energise`` sample."""
PULSE_S = 0.05
PULSES = 50
RELOCK_TIMEOUT_S = 2.0
NOTE = (
    "software path on gpiozero's MockFactory pins (time taken when the pin state is set); "
    "on a Raspberry Pi the lgpio pin factory adds the GPIO write itself"
)


class RecordingPin(MockPin):  # type: ignore[misc]  # gpiozero has no type hints
    """A mock pin that notes when it goes high (energised) and low, on ``perf_counter``."""

    def __init__(self, factory: Any, info: Any) -> None:
        self.high_at = 0.0
        self.low_at = 0.0
        self.went_low = threading.Event()
        super().__init__(factory, info)

    def _change_state(self, value: bool) -> bool:
        now = time.perf_counter()  # first: the moment the output is driven
        changed = bool(super()._change_state(value))
        if changed and value:
            self.high_at = now
        elif changed:
            self.low_at = now
            self.went_low.set()
        return changed


def run(count: int = DEFAULT_COUNT) -> Result:
    """Time ``count`` unlocks to the pin going high, and ``PULSES`` timed relocks."""
    result: Result = {
        "benchmark": "lock_energise",
        "count": count,
        "warmup": WARMUP,
        "pin_factory": f"gpiozero MockFactory, {RecordingPin.__name__} (active high)",
        "gpiozero": version("gpiozero"),
        "unlock_s": UNLOCK_S,
        "target": "none stated; reported only",
        "note": NOTE,
    }
    started = time.perf_counter()
    factory = MockFactory(pin_class=RecordingPin)
    try:
        lock = GpioLock(PIN, pin_factory=factory)
        with lock:
            pin = lock.pin
            if not isinstance(pin, RecordingPin):
                raise BenchmarkError(f"the lock drives a {type(pin).__name__}, not a RecordingPin")
            _energise(lock, pin, WARMUP)
            energise, call = _energise(lock, pin, count)
            relock = _relock(lock, pin, PULSES)
    except (BenchmarkError, LockError) as err:
        result["error"] = f"{type(err).__name__}: {err}"
        return result
    finally:
        factory.close()
    result["energise"] = latency_summary(energise)
    result["call"] = latency_summary(call)
    result["relock"] = {
        "pulse_s": PULSE_S,
        "overshoot": latency_summary(relock),
        "note": "overshoot: actual time high - pulse_s, in µs; the lock's timer thread relocks",
    }
    result["duration_s"] = round(time.perf_counter() - started, 2)
    return result


def _energise(lock: GpioLock, pin: RecordingPin, count: int) -> tuple[list[float], list[float]]:
    """Unlock and lock ``count`` times: seconds to the pin going high, and to the return."""
    to_pin: list[float] = []
    to_return: list[float] = []
    gc.collect()
    for i in range(count):
        start = time.perf_counter()
        lock.unlock_for(UNLOCK_S)
        returned = time.perf_counter()
        if not start <= pin.high_at <= returned:
            raise BenchmarkError(f"unlock {i} did not energise the pin")
        to_pin.append(pin.high_at - start)
        to_return.append(returned - start)
        lock.lock()
        if pin.state:
            raise BenchmarkError(f"lock() after unlock {i} left the pin energised")
    return to_pin, to_return


def _relock(lock: GpioLock, pin: RecordingPin, count: int) -> list[float]:
    """``count`` pulses of ``PULSE_S`` ended by the lock's timer: seconds each was too long."""
    errors: list[float] = []
    for i in range(count):
        pin.went_low.clear()
        lock.unlock_for(PULSE_S)
        if not pin.went_low.wait(PULSE_S + RELOCK_TIMEOUT_S):
            lock.lock()
            raise BenchmarkError(
                f"pulse {i}: the lock did not relock within {PULSE_S + RELOCK_TIMEOUT_S:g} s"
            )
        errors.append(pin.low_at - pin.high_at - PULSE_S)
    return errors


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``--count``: unlocks timed."""
    return parse_counted(count_parser(__doc__, DEFAULT_COUNT, "unlocks timed"), argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its JSON; 1 on error."""
    result = run(arguments(argv).count)
    emit(result)
    return 1 if has_error(result) else 0


if __name__ == "__main__":
    raise SystemExit(main())
