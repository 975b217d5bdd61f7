"""The hardware sections of door.toml: each driver chosen by config, bad keys named."""

from pathlib import Path

import pytest

from door.config import DoorConfig
from hardware.build import open_door_hardware, reader_driver
from hardware.config import NfcReaderConfig, OsdpReaderConfig
from hardware.errors import LockError
from hardware.feedback import GpioFeedback, NoFeedback
from hardware.mock_reader import MockReaderDriver
from hardware.nfc_reader import NfcReaderDriver
from hardware.osdp_reader import OsdpReaderDriver
from hardware.serial_reader import SerialReaderDriver
from hublink.config import load_config
from hublink.errors import ConfigError
from tests.helpers.door_hardware import SITE_KEY_TOML

BASE = '[site]\nid = "forest"\n' + SITE_KEY_TOML + '[door]\nid = "front"\n'


def load(tmp_path: Path, text: str) -> DoorConfig:
    path = tmp_path / "door.toml"
    path.write_text(BASE + text)
    return load_config(DoorConfig, path, environ={})


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return str(caught.value)


@pytest.mark.parametrize(
    ("reader", "driver_class"),
    [
        ('kind = "nfc"\npath = "tty:AMA0:pn532"', NfcReaderDriver),
        ('kind = "nfc"\npath = "usb"', NfcReaderDriver),
        ('kind = "nfc"\npath = "udp:127.0.0.1:5000"', NfcReaderDriver),
        ('kind = "serial"\nport = "/dev/ttyUSB0"\nprotocol = "line"', SerialReaderDriver),
        ('kind = "osdp"\nport = "/dev/ttyUSB1"\naddress = 3', OsdpReaderDriver),
        ('kind = "mock"', MockReaderDriver),
    ],
)
def test_the_reader_kind_chooses_the_driver(tmp_path, reader, driver_class):
    config = load(tmp_path, f'[lock]\nkind = "gpio"\npin = 17\n[reader]\n{reader}\n')
    assert type(reader_driver(config.reader)) is driver_class


def test_reader_settings_reach_the_driver(tmp_path):
    config = load(
        tmp_path,
        '[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "osdp"\nport = "/dev/ttyUSB1"\n'
        'address = 3\nbaudrate = 115200\nsecure_channel_key = "00112233445566778899AABBCCDDEEFF"\n',
    )
    assert isinstance(config.reader, OsdpReaderConfig)
    driver = reader_driver(config.reader)
    assert (driver.port, driver.baudrate, driver.address) == ("/dev/ttyUSB1", 115200, 3)
    assert driver._key == bytes.fromhex("00112233445566778899AABBCCDDEEFF")


def test_defaults_are_sensible(tmp_path):
    config = load(
        tmp_path, '[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "nfc"\npath = "usb"\n'
    )
    assert isinstance(config.reader, NfcReaderConfig)
    assert config.reader.targets == ["106A", "212F"]
    assert config.reader.retap_gap_s == 1.0
    assert (config.lock.unlock_s, config.lock.max_unlock_s) == (5.0, 30.0)
    assert config.lock.active_high is True
    assert config.gpio.pin_factory == "default"
    assert config.door_contact is None
    assert config.feedback.kind == "none"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[lock]\nkind = "gpio"\npin = 17\n',
            "[reader] ({path}): required section is missing (it needs kind: 'nfc', 'serial', "
            "'osdp', 'mock')",
        ),
        (
            '[lock]\nkind = "gpio"\npin = 17\n[reader]\npath = "usb"\n',
            "reader.kind ({path}): required key is missing "
            "(one of 'nfc', 'serial', 'osdp', 'mock')",
        ),
        (
            '[reader]\nkind = "mock"\n',
            "[lock] ({path}): required section is missing (it needs kind: 'gpio', 'serial-relay')",
        ),
        (
            '[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "pn532"\n',
            "reader.kind ({path}): unknown reader.kind 'pn532' (expected one of 'nfc', 'serial', "
            "'osdp', 'mock')",
        ),
        (
            '[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "nfc"\npath = "com3"\n',
            "reader.path ({path}): Value error, expected 'usb'",
        ),
        (
            '[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "serial"\nport = "/dev/x"\n'
            'protocol = "wiegand"\n',
            "reader.protocol ({path}): Input should be 'rdm6300' or 'line'",
        ),
        ('[lock]\nkind = "gpio"\npin = 99\n[reader]\nkind = "mock"\n', "lock.pin ({path})"),
        ('[lock]\nkind = "gpio"\npin = "GPIOX"\n[reader]\nkind = "mock"\n', "lock.pin ({path})"),
        (
            '[lock]\nkind = "gpio"\npin = 17\nunlock_s = 60\n[reader]\nkind = "mock"\n',
            "unlock_s 60.0 exceeds max_unlock_s 30.0",
        ),
        (
            '[lock]\nkind = "gpio"\npin = 17\ncolour = "red"\n[reader]\nkind = "mock"\n',
            "lock.colour ({path}): unknown key",
        ),
        (
            '[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "mock"\n[exit_button]\n'
            'pin = "GPIO17"\n',
            "exit_button.pin uses pin GPIO17, already used by lock.pin",
        ),
        (
            '[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "mock"\n[feedback]\nkind = "gpio"\n',
            "kind 'gpio' needs at least one of green_pin, red_pin, buzzer_pin",
        ),
    ],
)
def test_bad_hardware_config_names_the_key_and_the_problem(tmp_path, text, message):
    assert message.format(path=tmp_path / "door.toml") in error(tmp_path, text)


def test_a_wrong_secure_channel_key_is_refused_without_echoing_it(tmp_path):
    text = error(
        tmp_path,
        '[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "osdp"\nport = "/dev/x"\n'
        'secure_channel_key = "not-the-right-length-secret"\n',
    )
    assert "reader.secure_channel_key" in text
    assert "expected 32 hex digits" in text
    assert "not-the-right-length-secret" not in text


def test_a_mock_door_opens_locked_with_every_part(tmp_path):
    config = load(
        tmp_path,
        '[gpio]\npin_factory = "mock"\n[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "mock"\n'
        "[door_contact]\npin = 27\n[exit_button]\npin = 22\n"
        '[feedback]\nkind = "gpio"\ngreen_pin = 5\n',
    )
    with open_door_hardware(config) as hardware:
        assert hardware.lock.locked
        assert hardware.door_contact is not None
        assert hardware.exit_button is not None
        assert isinstance(hardware.feedback, GpioFeedback)
        lock_pin = hardware.pin_factory.pin(17)
    assert [s.state for s in lock_pin.states] == [False]


def test_when_a_part_fails_to_open_what_was_opened_is_closed_and_the_error_raised(tmp_path):
    config = load(
        tmp_path,
        '[lock]\nkind = "serial-relay"\nport = "/nonexistent/ttyRELAY"\n[reader]\nkind = "mock"\n',
    )
    with pytest.raises(LockError, match="/nonexistent/ttyRELAY"):
        open_door_hardware(config)


def test_without_feedback_pins_the_door_stays_dark(tmp_path):
    config = load(
        tmp_path,
        '[gpio]\npin_factory = "mock"\n[lock]\nkind = "gpio"\npin = 17\n[reader]\nkind = "mock"\n',
    )
    with open_door_hardware(config) as hardware:
        assert isinstance(hardware.feedback, NoFeedback)
        assert isinstance(hardware.reader.driver, MockReaderDriver)
