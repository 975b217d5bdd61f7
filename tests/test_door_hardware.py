"""hubtap-door with its hardware: the installer's check, the exit button, relock on stop."""

import io
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from door.config import DoorConfig
from door.hardware_check import check_open_hardware
from hardware.build import open_door_hardware
from hardware.emulator import CardEmulator
from hardware.serial_relay import relay_command
from hub_server.demo import free_port
from hublink.config import load_config
from tests.helpers.door_hardware import MOCK_PINS_TOML, SITE_KEY_TOML, udp_reader_toml
from tests.helpers.pty_pair import PtyPair

BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"
SITE = '[site]\nid = "forest"\n' + SITE_KEY_TOML + '[door]\nid = "front"\n'
INPUTS = "[door_contact]\npin = 27\n[exit_button]\npin = 22\nbounce_s = 0\n"
FEEDBACK = '[feedback]\nkind = "gpio"\ngreen_pin = 5\nred_pin = 6\n'


@pytest.fixture
def reader_port() -> int:
    return free_port(kind=socket.SOCK_DGRAM)


def door_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "door.toml"
    path.write_text(f'data_dir = "{tmp_path}"\n' + SITE + text)
    return path


def tap_soon(port: int, uid: str, delay: float = 0.3) -> threading.Thread:
    """Put a card on the simulated reader shortly, from another thread."""

    def tap() -> None:
        time.sleep(delay)
        CardEmulator(port=port).hold(uid, 2.0)

    thread = threading.Thread(target=tap, daemon=True)
    thread.start()
    return thread


def test_check_hardware_lists_reads_a_card_and_pulses_the_lock(tmp_path, reader_port):
    path = door_config(tmp_path, MOCK_PINS_TOML + udp_reader_toml(reader_port) + INPUTS + FEEDBACK)
    config = load_config(DoorConfig, path, environ={})
    out = io.StringIO()
    tapper = tap_soon(reader_port, "04A1B2C3D4E5F6")
    with open_door_hardware(config) as hardware:
        hardware.pin_factory.pin(27).drive_low()  # door closed
        status = check_open_hardware(hardware, out, wait_s=15)
        lock_pin = hardware.pin_factory.pin(17)
        green = hardware.pin_factory.pin(5)
    tapper.join(5)
    text = out.getvalue()
    assert status == 0, text
    assert "OK    lock      gpio on 17: locked" in text
    assert "OK    contact   pin 27: door closed" in text
    assert "OK    exit      pin 22: released" in text
    assert f"OK    reader    nfcpy udp:127.0.0.1:{reader_port}" in text
    assert "OK    card      04A1B2C3D4E5F6 (iso14443a, 7 bytes)" in text
    assert "OK    lock      locked again" in text
    assert text.rstrip().endswith("All checks passed.")
    assert [s.state for s in lock_pin.states] == [False, True, False]
    assert lock_pin.states[2].timestamp == pytest.approx(1.0, abs=0.15)  # one 1 s pulse
    assert any(s.state for s in green.states)  # the granted signal lit green


def test_check_hardware_without_a_tap_fails_and_says_so(tmp_path, reader_port):
    config = load_config(
        DoorConfig, door_config(tmp_path, MOCK_PINS_TOML + udp_reader_toml(reader_port)), {}
    )
    out = io.StringIO()
    with open_door_hardware(config) as hardware:
        assert check_open_hardware(hardware, out, wait_s=0.5, pulse=False) == 1
    assert "FAIL  no card was read" in out.getvalue()
    assert "pulsing" not in out.getvalue()


def test_the_check_hardware_command_end_to_end(tmp_path, reader_port):
    path = door_config(tmp_path, MOCK_PINS_TOML + udp_reader_toml(reader_port))
    process = subprocess.Popen(
        [str(BIN / "hubtap-door"), "check-hardware", "--config", str(path), "--wait", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        card = subprocess.run(
            [
                str(BIN / "hubtap-card"),
                "tap",
                "0012ABCD",
                "--port",
                str(reader_port),
                "--hold",
                "4",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert card.returncode == 0, card.stderr
    assert f"held iso14443a 0012ABCD for 4 s on 127.0.0.1:{reader_port}" in card.stdout
    assert process.returncode == 0, output
    assert "OK    card      0012ABCD (iso14443a, 4 bytes)" in output


def test_check_hardware_reports_a_reader_that_is_not_there(tmp_path):
    path = door_config(
        tmp_path, MOCK_PINS_TOML + '[reader]\nkind = "nfc"\npath = "usb:ffff:ffff"\n'
    )
    result = subprocess.run(
        [str(BIN / "hubtap-door"), "--config", str(path), "check-hardware", "--no-pulse"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert (
        "FAIL  reader    nfcpy usb:ffff:ffff: not found (ReaderError: no NFC reader"
        in result.stdout
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_door_process_locks_at_start_and_again_on_the_way_out(tmp_path, stop_signal):
    off = relay_command(1, on=False)
    with PtyPair() as relay:
        path = door_config(
            tmp_path,
            f"[mqtt]\nport = {free_port()}\n"  # no broker: the door works offline
            f'[lock]\nkind = "serial-relay"\nport = "{relay.port}"\nunlock_s = 30\n'
            '[reader]\nkind = "mock"\n[gpio]\npin_factory = "mock"\n[exit_button]\npin = 22\n',
        )
        process = subprocess.Popen([str(BIN / "hubtap-door"), "--config", str(path)])
        try:
            assert relay.read(4, timeout=20) == off  # locked before anything else
            time.sleep(0.5)
            process.send_signal(stop_signal)
            assert process.wait(20) == 0
        finally:
            process.kill()
        assert relay.read(4, timeout=5) == off  # locked again on the way out
