"""The GPIO lock on gpiozero's MockFactory: fail secure on every path, pulses as asked."""

import signal
import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory

from hardware.errors import LockError
from hardware.gpio_lock import GpioLock
from hardware.lock import Lock, relock_on_signals
from hublink.runtime import stop_event_on_signals
from tests.helpers.waiting import wait_until

PIN = 17


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.close()


@pytest.fixture
def restore_signal_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def states(pin) -> list[bool]:
    return [bool(s.state) for s in pin.states]


def wait_locked(lock: Lock, timeout: float = 5.0) -> bool:
    return wait_until(lambda: lock.locked, timeout, interval=0.005)


def test_the_lock_is_locked_the_moment_it_exists(factory):
    with GpioLock(PIN, pin_factory=factory) as lock:
        assert lock.locked
        assert states(factory.pin(PIN)) == [False]
        assert lock.relock_in is None


def test_an_active_low_relay_is_held_high_while_locked(factory):
    with GpioLock(PIN, active_high=False, pin_factory=factory) as lock:
        assert factory.pin(PIN).state  # high = relay off
        lock.unlock_for(0.05)
        assert not factory.pin(PIN).state
        assert wait_locked(lock)
        assert factory.pin(PIN).state


def test_unlock_for_energises_for_the_time_asked(factory):
    with GpioLock(PIN, pin_factory=factory) as lock:
        assert lock.unlock_for(0.3) == 0.3
        assert not lock.locked
        assert 0 < lock.relock_in <= 0.3
        assert wait_locked(lock)
        pin = factory.pin(PIN)
        assert states(pin) == [False, True, False]
        assert pin.states[2].timestamp == pytest.approx(0.3, abs=0.1)  # the pulse length


def test_unlock_time_is_capped_by_the_configured_maximum(factory):
    with GpioLock(PIN, max_unlock_s=0.2, pin_factory=factory) as lock:
        assert lock.unlock_for(3600) == 0.2
        assert wait_locked(lock)
        assert factory.pin(PIN).states[2].timestamp == pytest.approx(0.2, abs=0.1)


def test_unlocking_again_restarts_the_time_from_now(factory):
    with GpioLock(PIN, pin_factory=factory) as lock:
        lock.unlock_for(0.3)
        time.sleep(0.2)
        lock.unlock_for(0.3)
        assert wait_locked(lock)
        pin = factory.pin(PIN)
        assert states(pin) == [False, True, False]  # one pulse, never dropped in between
        assert pin.states[2].timestamp == pytest.approx(0.5, abs=0.12)


@pytest.mark.parametrize("seconds", [0, -1, float("nan")])
def test_a_non_positive_unlock_time_is_refused_and_the_lock_stays_locked(factory, seconds):
    with GpioLock(PIN, pin_factory=factory) as lock:
        with pytest.raises(LockError, match="must be positive"):
            lock.unlock_for(seconds)
        assert states(factory.pin(PIN)) == [False]


def test_lock_ends_an_unlock_at_once(factory):
    with GpioLock(PIN, pin_factory=factory) as lock:
        lock.unlock_for(30)
        lock.lock()
        assert lock.locked
        assert not factory.pin(PIN).state
        time.sleep(0.05)
        assert states(factory.pin(PIN)) == [False, True, False]


def test_close_relocks_releases_the_pin_and_is_safe_twice(factory):
    lock = GpioLock(PIN, pin_factory=factory)
    lock.unlock_for(30)
    pin = factory.pin(PIN)
    lock.close()
    assert lock.locked
    assert states(pin) == [False, True, False]
    lock.close()
    with pytest.raises(LockError, match="closed"):
        lock.unlock_for(1)
    assert states(pin) == [False, True, False]


def test_an_exception_in_the_with_block_relocks(factory):
    def crash():
        with GpioLock(PIN, pin_factory=factory) as lock:
            lock.unlock_for(30)
            raise RuntimeError("door logic crashed")

    with pytest.raises(RuntimeError, match="door logic crashed"):
        crash()
    assert states(factory.pin(PIN)) == [False, True, False]


def test_sigint_relocks_before_the_keyboard_interrupt(factory, restore_signal_handlers):
    signal.signal(signal.SIGINT, signal.default_int_handler)
    lock = GpioLock(PIN, pin_factory=factory)
    try:
        lock.unlock_for(30)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        assert lock.locked
        assert not factory.pin(PIN).state
    finally:
        lock.close()


def test_sigterm_relocks_and_still_reaches_the_services_stop_handler(
    factory, restore_signal_handlers
):
    stop = stop_event_on_signals()
    lock = GpioLock(PIN, pin_factory=factory)  # wraps the service's handlers
    try:
        lock.unlock_for(30)
        signal.raise_signal(signal.SIGTERM)
        assert lock.locked
        assert not factory.pin(PIN).state
        assert stop.is_set()
        with pytest.raises(LockError, match="stopping"):
            lock.unlock_for(5)  # no unlock may slip in while the service shuts down
        assert not factory.pin(PIN).state
    finally:
        lock.close()


def test_wrapping_the_signal_handlers_twice_does_not_stack(restore_signal_handlers):
    relock_on_signals()
    first = signal.getsignal(signal.SIGTERM)
    relock_on_signals()
    assert signal.getsignal(signal.SIGTERM) is first


class BrokenOutput(Lock):
    """A lock whose output fails when told to, to check what the base class does."""

    def __init__(self) -> None:
        self.fail_on: set[bool] = set()
        self.driven: list[bool] = []
        super().__init__("broken", 30)

    def _set_output(self, energised: bool) -> None:
        if energised in self.fail_on:
            raise OSError("relay board gone")
        self.driven.append(energised)

    def _release_device(self) -> None:
        pass


def test_an_unlock_that_fails_is_an_error_and_the_output_is_released():
    lock = BrokenOutput()
    lock.fail_on = {True}
    with pytest.raises(LockError, match="did not unlock: relay board gone"):
        lock.unlock_for(5)
    assert lock.locked
    assert lock.driven == [False, False]  # locked at start, and released after the failure
    lock.close()


def test_a_relock_that_fails_is_retried_until_it_succeeds():
    lock = BrokenOutput()
    lock.unlock_for(0.05)
    lock.fail_on = {False}
    time.sleep(0.3)  # the timer keeps trying every 0.1 s
    assert not lock.locked
    lock.fail_on = set()
    assert wait_locked(lock)
    lock.close()


def test_unlocks_from_many_threads_end_locked(factory):
    with GpioLock(PIN, max_unlock_s=0.2, pin_factory=factory) as lock:
        threads = [threading.Thread(target=lock.unlock_for, args=(0.1,)) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wait_locked(lock)
        assert states(factory.pin(PIN))[-1] is False
