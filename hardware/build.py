"""Hardware objects from configuration: the one place a driver is chosen."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hardware.config import (
    DoorHardwareConfig,
    FeedbackConfig,
    GpioLockConfig,
    LockConfig,
    MockReaderConfig,
    NfcReaderConfig,
    OsdpReaderConfig,
    ReaderConfig,
    SerialReaderConfig,
)
from hardware.feedback import Feedback, GpioFeedback, NoFeedback, ReaderFeedback
from hardware.gpio_lock import GpioLock
from hardware.inputs import DoorContact, ExitButton
from hardware.lock import Lock
from hardware.mock_reader import MockReaderDriver
from hardware.nfc_reader import NfcReaderDriver
from hardware.pins import make_pin_factory
from hardware.reader import CardReader, ReaderDriver, ReaderTiming


def reader_driver(config: ReaderConfig) -> ReaderDriver:
    """The driver ``[reader] kind`` names, not yet opened."""
    if isinstance(config, NfcReaderConfig):
        return NfcReaderDriver(config.path, config.targets, config.poll_interval_s)
    if isinstance(config, SerialReaderConfig):
        from hardware.serial_reader import SerialReaderDriver  # noqa: PLC0415

        return SerialReaderDriver(config.port, config.baudrate, config.protocol)
    if isinstance(config, OsdpReaderConfig):
        from hardware.osdp_reader import OsdpReaderDriver  # noqa: PLC0415

        key = config.secure_channel_key
        return OsdpReaderDriver(
            config.port,
            config.baudrate,
            config.address,
            bytes.fromhex(key.get_secret_value()) if key else None,
        )
    assert isinstance(config, MockReaderConfig)
    return MockReaderDriver()


def make_reader(config: ReaderConfig) -> CardReader:
    """A supervised reader for ``[reader]``; call ``start(on_tap)`` to begin polling."""
    timing = ReaderTiming(
        retap_gap_s=config.retap_gap_s,
        reopen_min_s=config.reopen_min_s,
        reopen_max_s=config.reopen_max_s,
        degraded_poll_s=config.degraded_poll_s,
        degraded_polls=config.degraded_polls,
    )
    return CardReader(reader_driver(config), config.id, timing)


def make_lock(config: LockConfig, pin_factory: Any) -> Lock:
    """The lock ``[lock] kind`` names, locked."""
    if isinstance(config, GpioLockConfig):
        return GpioLock(
            config.pin,
            active_high=config.active_high,
            max_unlock_s=config.max_unlock_s,
            pin_factory=pin_factory,
        )
    from hardware.serial_relay import SerialRelayLock  # noqa: PLC0415

    return SerialRelayLock(
        config.port,
        baudrate=config.baudrate,
        channel=config.channel,
        max_unlock_s=config.max_unlock_s,
    )


def make_feedback(config: FeedbackConfig, reader: CardReader, pin_factory: Any) -> Feedback:
    """The feedback outputs ``[feedback] kind`` names."""
    if config.kind == "gpio":
        return GpioFeedback(
            green_pin=config.green_pin,
            red_pin=config.red_pin,
            buzzer_pin=config.buzzer_pin,
            pin_factory=pin_factory,
        )
    if config.kind == "reader":
        return ReaderFeedback(reader)
    return NoFeedback()


@dataclass
class DoorHardware:
    """Everything at one door, opened together and closed lock first."""

    config: DoorHardwareConfig
    pin_factory: Any
    lock: Lock
    reader: CardReader
    feedback: Feedback
    door_contact: DoorContact | None = None
    exit_button: ExitButton | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        """Lock, then release every device; safe twice."""
        self.lock.close()
        for close in reversed(self._closers):
            close()
        self._closers.clear()

    def __enter__(self) -> "DoorHardware":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_door_hardware(config: DoorHardwareConfig) -> DoorHardware:
    """Open the lock first (locked), then reader, inputs and feedback.

    If anything fails, whatever was opened is closed again before the
    error propagates, and the lock stays locked.
    """
    pin_factory = make_pin_factory(config.gpio.pin_factory)
    lock = make_lock(config.lock, pin_factory)
    closers: list[Callable[[], None]] = []
    try:
        reader = make_reader(config.reader)
        closers.append(reader.close)
        contact = exit_button = None
        if config.door_contact is not None:
            c = config.door_contact
            contact = DoorContact(
                c.pin,
                pull_up=c.pull_up,
                bounce_s=c.bounce_s,
                closed_when_pressed=c.closed_when_pressed,
                pin_factory=pin_factory,
            )
            closers.append(contact.close)
        if config.exit_button is not None:
            b = config.exit_button
            exit_button = ExitButton(
                b.pin, pull_up=b.pull_up, bounce_s=b.bounce_s, pin_factory=pin_factory
            )
            closers.append(exit_button.close)
        feedback = make_feedback(config.feedback, reader, pin_factory)
        closers.append(feedback.close)
    except BaseException:
        lock.close()
        for close in reversed(closers):
            close()
        raise
    return DoorHardware(config, pin_factory, lock, reader, feedback, contact, exit_button, closers)
