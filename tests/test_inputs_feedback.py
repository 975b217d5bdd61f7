"""Door contact, exit button and LED/buzzer feedback on gpiozero's MockFactory."""

import time

import pytest
from gpiozero.pins.mock import MockFactory

from hardware.feedback import PATTERNS, GpioFeedback, ReaderFeedback
from hardware.inputs import DoorContact, ExitButton
from hardware.mock_reader import MockReaderDriver
from hardware.reader import CardReader
from hardware.signals import Signal
from tests.helpers.waiting import wait_until


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.close()


def test_the_door_contact_reports_open_and_closed(factory):
    contact = DoorContact(27, bounce_s=0, pin_factory=factory)
    changes = []
    contact.on_change(changes.append)
    pin = factory.pin(27)
    pin.drive_low()  # reed switch closed (pull-up, wired to ground): door closed
    assert not contact.is_open
    pin.drive_high()
    assert contact.is_open
    pin.drive_low()
    assert changes == [False, True, False]
    contact.close()
    contact.close()


def test_a_contact_wired_the_other_way_round_is_read_the_other_way_round(factory):
    contact = DoorContact(27, bounce_s=0, closed_when_pressed=False, pin_factory=factory)
    factory.pin(27).drive_low()
    assert contact.is_open
    contact.close()


def test_the_exit_button_calls_once_per_press_and_ignores_bounce(factory):
    button = ExitButton(22, bounce_s=0.05, pin_factory=factory)
    presses = []
    button.on_press(lambda: presses.append(time.monotonic()))
    pin = factory.pin(22)
    for _ in range(5):  # contact bounce within 50 ms: one press
        pin.drive_low()
        pin.drive_high()
    time.sleep(0.1)
    pin.drive_low()
    pin.drive_high()
    assert len(presses) == 2
    button.close()


def test_a_failing_input_handler_is_logged_and_the_next_event_still_arrives(factory, caplog):
    button = ExitButton(22, bounce_s=0, pin_factory=factory)
    calls = []

    def handler():
        calls.append(1)
        raise RuntimeError("bug")

    button.on_press(handler)
    pin = factory.pin(22)
    pin.drive_low()
    pin.drive_high()
    pin.drive_low()
    assert len(calls) == 2
    assert "exit button handler failed" in caplog.text
    button.close()


def pulses(pin) -> list[float]:
    """Lengths of the high periods a pin went through."""
    states = pin.states
    return [
        states[i + 1].timestamp
        for i in range(len(states) - 1)
        if states[i].state and not states[i + 1].state
    ]


def test_granted_lights_green_once_and_beeps_once(factory):
    feedback = GpioFeedback(green_pin=5, red_pin=6, buzzer_pin=13, pin_factory=factory)
    feedback.show(Signal.GRANTED)
    green, red, buzzer = factory.pin(5), factory.pin(6), factory.pin(13)
    assert wait_until(lambda: len(pulses(green)) == 1)
    assert pulses(green)[0] == pytest.approx(PATTERNS[Signal.GRANTED]["green"].on_s, abs=0.1)
    assert len(pulses(buzzer)) == 1
    assert pulses(red) == []
    feedback.close()


def test_denied_flashes_red_three_times_with_three_beeps(factory):
    feedback = GpioFeedback(green_pin=5, red_pin=6, buzzer_pin=13, pin_factory=factory)
    feedback.show(Signal.DENIED)
    red, buzzer = factory.pin(6), factory.pin(13)
    assert wait_until(lambda: len(pulses(red)) == 3)
    assert wait_until(lambda: len(pulses(buzzer)) == 3)
    assert all(p == pytest.approx(0.2, abs=0.08) for p in pulses(red))
    assert pulses(factory.pin(5)) == []
    feedback.close()


def test_a_new_signal_replaces_the_running_one_and_idle_goes_dark(factory):
    feedback = GpioFeedback(red_pin=6, pin_factory=factory)
    feedback.show(Signal.OFFLINE)  # blinks until told otherwise
    assert wait_until(lambda: factory.pin(6).state)
    feedback.show(Signal.IDLE)
    assert not factory.pin(6).state
    time.sleep(0.3)
    assert not factory.pin(6).state
    feedback.close()


def test_reader_feedback_goes_to_the_readers_own_led():
    driver = MockReaderDriver()
    ReaderFeedback(CardReader(driver, "r")).show(Signal.DENIED)
    assert driver.signals == [Signal.DENIED]
