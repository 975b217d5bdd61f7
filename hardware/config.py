"""Hardware sections of a device's TOML: ``[gpio]``, ``[reader]``, ``[lock]``,
``[door_contact]``, ``[exit_button]``, ``[feedback]``.

Which implementation runs is chosen here, by configuration, the way
gpiozero chooses pin factories: ``[reader] kind = "mock"`` or
``[gpio] pin_factory = "mock"`` in a test's config, real drivers on a door.
"""

import re
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from hublink.config import Section

_PIN_NAME = re.compile(r"(?:GPIO|BCM|BOARD|WPI|J8:)?\d{1,2}")
_NFC_PATH = re.compile(
    r"usb(?::[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})?)?|tty:\w+(?::\w+)?|udp:[\w.:\-]+"
)

Pin = Annotated[
    int | str,
    Field(description="GPIO pin: a BCM number (17) or a gpiozero name ('GPIO17', 'BOARD11')."),
]


def _check_pin(value: int | str) -> int | str:
    if isinstance(value, str) and value.isdigit():
        value = int(value)  # "17" from an environment variable is BCM 17
    if isinstance(value, int):
        if not 0 <= value <= 53:
            raise ValueError("BCM pin numbers are 0-53")
        return value
    if not _PIN_NAME.fullmatch(value):
        raise ValueError("expected a BCM number or a name like 'GPIO17' or 'BOARD11'")
    return value


class GpioConfig(Section):
    """Which gpiozero pin factory drives the pins."""

    pin_factory: Literal["default", "lgpio", "rpigpio", "native", "mock"] = Field(
        default="default",
        description="gpiozero pin factory; 'default' lets gpiozero choose (lgpio on Pi 4/5); "
        "'mock' simulates pins for tests and the demo.",
    )


class ReaderBase(Section):
    """Settings every card reader has."""

    id: str = Field(
        default="main", pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$", description="Reader id in taps."
    )
    retap_gap_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="A card out of sight for longer than this and seen again is a new tap; "
        "held on the reader it is one tap. 0 reports every read.",
    )
    reopen_min_s: float = Field(
        default=0.5, gt=0, le=60, description="Shortest wait before reopening a failed reader."
    )
    reopen_max_s: float = Field(
        default=30.0, gt=0, le=3600, description="Longest wait before reopening a failed reader."
    )
    degraded_poll_s: float = Field(
        default=5.0,
        gt=0,
        description="A poll slower than this counts as degraded (a wedged PN532 polls slowly).",
    )
    degraded_polls: int = Field(
        default=3, ge=1, description="Degraded polls in a row before the reader is reinitialised."
    )


class NfcReaderConfig(ReaderBase):
    """An NFC reader driven by nfcpy."""

    kind: Literal["nfc"]
    path: str = Field(
        description="nfcpy device path: 'usb', 'tty:AMA0:pn532', 'tty:USB0:pn532', "
        "or 'udp:127.0.0.1:PORT' for the card emulator."
    )
    targets: list[Literal["106A", "212F"]] = Field(
        default=["106A", "212F"],
        min_length=1,
        description="Technologies polled: 106A (ISO 14443A: MIFARE, NTAG) and 212F (FeliCa).",
    )
    poll_interval_s: float = Field(
        default=0.1, ge=0, le=5, description="Pause between polls that found nothing."
    )

    @field_validator("path")
    @classmethod
    def _known_path(cls, value: str) -> str:
        if not _NFC_PATH.fullmatch(value):
            raise ValueError("expected 'usb', 'usb:VID:PID', 'tty:PORT:DRIVER' or 'udp:HOST:PORT'")
        return value


class SerialReaderConfig(ReaderBase):
    """A serial reader: RDM6300-style 125 kHz frames, or one UID per line."""

    kind: Literal["serial"]
    port: str = Field(min_length=1, description="Serial device, e.g. '/dev/ttyUSB0'.")
    baudrate: int = Field(default=9600, gt=0, description="Serial speed.")
    protocol: Literal["rdm6300", "line"] = Field(
        default="rdm6300", description="'rdm6300' frames (EM4100) or 'line' (hex UID per line)."
    )


class OsdpReaderConfig(ReaderBase):
    """An OSDP reader on RS-485 (needs the ``osdp`` extra)."""

    kind: Literal["osdp"]
    port: str = Field(min_length=1, description="RS-485 adapter, e.g. '/dev/ttyUSB0'.")
    baudrate: Literal[9600, 19200, 38400, 57600, 115200, 230400] = Field(
        default=9600, description="OSDP line speed."
    )
    address: int = Field(default=0, ge=0, le=126, description="The reader's OSDP address.")
    secure_channel_key: SecretStr | None = Field(
        default=None,
        description="Secure channel base key (32 hex digits); without it the link is plain.",
    )

    @field_validator("secure_channel_key")
    @classmethod
    def _hex_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[0-9a-fA-F]{32}", value.get_secret_value()):
            raise ValueError("expected 32 hex digits (16 bytes)")
        return value


class MockReaderConfig(ReaderBase):
    """A scriptable reader with no hardware behind it (tests)."""

    kind: Literal["mock"]


ReaderConfig = Annotated[
    NfcReaderConfig | SerialReaderConfig | OsdpReaderConfig | MockReaderConfig,
    Field(discriminator="kind", description="The card reader; 'kind' chooses the driver."),
]


class LockBase(Section):
    """Settings every lock has."""

    unlock_s: float = Field(default=5.0, gt=0, description="How long a granted tap unlocks.")
    max_unlock_s: float = Field(
        default=30.0, gt=0, le=3600, description="Longest unlock any caller can ask for."
    )

    @model_validator(mode="after")
    def _unlock_within_max(self) -> Self:
        if self.unlock_s > self.max_unlock_s:
            raise ValueError(f"unlock_s {self.unlock_s} exceeds max_unlock_s {self.max_unlock_s}")
        return self


class GpioLockConfig(LockBase):
    """A relay or MOSFET on a GPIO pin."""

    kind: Literal["gpio"]
    pin: Pin
    active_high: bool = Field(
        default=True, description="True if driving the pin high energises the relay (unlocks)."
    )

    _pin = field_validator("pin")(_check_pin)


class SerialRelayLockConfig(LockBase):
    """A USB-serial relay board (LCUS type: A0 <channel> <state> <sum>)."""

    kind: Literal["serial-relay"]
    port: str = Field(min_length=1, description="Serial device, e.g. '/dev/ttyUSB0'.")
    baudrate: int = Field(default=9600, gt=0, description="Serial speed.")
    channel: int = Field(default=1, ge=1, le=8, description="Relay channel on the board.")


LockConfig = Annotated[
    GpioLockConfig | SerialRelayLockConfig,
    Field(discriminator="kind", description="The door lock; 'kind' chooses the driver."),
]


class InputConfig(Section):
    """A switch on a GPIO pin."""

    pin: Pin
    pull_up: bool = Field(
        default=True, description="Use the internal pull-up (switch wired to ground)."
    )
    bounce_s: float = Field(default=0.05, ge=0, le=1, description="Debounce time.")

    _pin = field_validator("pin")(_check_pin)


class DoorContactConfig(InputConfig):
    """The door contact (reed switch): is the door open or closed."""

    closed_when_pressed: bool = Field(
        default=True,
        description="True if the switch is closed (pressed) when the door is closed, "
        "the usual wiring for a normally-open reed switch with the magnet on the door.",
    )


class ExitButtonConfig(InputConfig):
    """The request-to-exit button inside the door."""


class FeedbackConfig(Section):
    """LEDs and buzzer that tell the person at the door what happened."""

    kind: Literal["none", "gpio", "reader"] = Field(
        default="none",
        description="'gpio' drives the pins below; 'reader' uses the reader's own LED and "
        "buzzer (OSDP); 'none' stays dark.",
    )
    green_pin: Pin | None = Field(default=None, description="Green LED (granted).")
    red_pin: Pin | None = Field(default=None, description="Red LED (denied, offline).")
    buzzer_pin: Pin | None = Field(default=None, description="Active buzzer.")

    @field_validator("green_pin", "red_pin", "buzzer_pin")
    @classmethod
    def _pins(cls, value: int | str | None) -> int | str | None:
        return None if value is None else _check_pin(value)

    @model_validator(mode="after")
    def _gpio_needs_a_pin(self) -> Self:
        if self.kind == "gpio" and not (self.green_pin or self.red_pin or self.buzzer_pin):
            raise ValueError("kind 'gpio' needs at least one of green_pin, red_pin, buzzer_pin")
        return self


class DoorHardwareConfig(Section):
    """The hardware sections of ``door.toml``."""

    gpio: GpioConfig = Field(default_factory=GpioConfig)
    reader: ReaderConfig
    lock: LockConfig
    door_contact: DoorContactConfig | None = Field(
        default=None, description="Door contact; without it the door's open state is unknown."
    )
    exit_button: ExitButtonConfig | None = Field(
        default=None, description="Request-to-exit button; optional."
    )
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)

    @model_validator(mode="after")
    def _pins_used_once(self) -> Self:
        used: dict[str, str] = {}
        for key, pin in self._pins():
            name = _pin_key(pin)
            if name in used:
                raise ValueError(f"{key} uses pin {pin}, already used by {used[name]}")
            used[name] = key
        return self

    def _pins(self) -> list[tuple[str, int | str]]:
        pins: list[tuple[str, int | str]] = []
        if isinstance(self.lock, GpioLockConfig):
            pins.append(("lock.pin", self.lock.pin))
        if self.door_contact is not None:
            pins.append(("door_contact.pin", self.door_contact.pin))
        if self.exit_button is not None:
            pins.append(("exit_button.pin", self.exit_button.pin))
        if self.feedback.kind == "gpio":
            for key in ("green_pin", "red_pin", "buzzer_pin"):
                pin = getattr(self.feedback, key)
                if pin is not None:
                    pins.append((f"feedback.{key}", pin))
        return pins


def _pin_key(pin: int | str) -> str:
    """BCM 17, 'GPIO17' and 'BCM17' are the same pin; other names compare as written."""
    if isinstance(pin, int):
        return f"BCM{pin}"
    match = re.fullmatch(r"(?:GPIO|BCM)(\d+)", pin)
    return f"BCM{int(match.group(1))}" if match else pin.upper()
