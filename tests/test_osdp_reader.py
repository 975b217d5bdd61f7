"""OsdpReaderDriver against a real libosdp peripheral device over a pty.

The driver (the control panel) opens ``pair.port`` with pyserial; an
``OsdpPd`` plays the reader on the master end, in the same process.
"""

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import osdp  # libosdp: the dev extra installs it, so these tests never skip
import pytest

from hardware.errors import FrameError, ReaderError
from hardware.osdp_reader import (
    EVENT_CARDREAD,
    FORMAT_ASCII,
    FORMAT_RAW_UNSPECIFIED,
    FORMAT_RAW_WIEGAND,
    OsdpReaderDriver,
    card_read_from_event,
    pack_bits,
)
from hardware.reader import CardReader, ReaderTiming
from hardware.signals import Signal
from hardware.taps import CardKind, CardTap
from tests.helpers.osdp_pd import OsdpPd
from tests.helpers.pty_pair import PtyPair
from tests.helpers.waiting import wait_until

KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
OTHER_KEY = bytes.fromhex("f0e0d0c0b0a090807060504030201000")
H10301 = bytes([0xAB, 0xCD, 0xEF, 0xC0])  # 26 bits, MSB first, 6 pad bits
H10301_UID = bytes([0x02, 0xAF, 0x37, 0xBF])  # the same 26 bits right-aligned
FAST = ReaderTiming(retap_gap_s=0.5, reopen_min_s=0.05, reopen_max_s=0.2)


@pytest.fixture
def pair() -> Iterator[PtyPair]:
    with PtyPair() as made:
        yield made


@pytest.fixture
def pds() -> Iterator[list[OsdpPd]]:
    """PDs a test started; stopped before its pty closes."""
    started: list[OsdpPd] = []
    yield started
    for pd in started:
        pd.stop()


@pytest.fixture
def start_pd(pair: PtyPair, pds: list[OsdpPd]) -> Callable[..., OsdpPd]:
    def start(scbk: bytes | None = None, address: int = 5) -> OsdpPd:
        pd = OsdpPd(pair.master, address=address, scbk=scbk).start()
        pds.append(pd)
        return pd

    return start


def driver_for(pair: PtyPair, key: bytes | None = None, **kwargs: float) -> OsdpReaderDriver:
    kwargs.setdefault("offline_after_s", 0.5)
    kwargs.setdefault("online_timeout_s", 3.0)
    return OsdpReaderDriver(pair.port, 9600, 5, key, **kwargs)


@pytest.fixture
def taps() -> list[CardTap]:
    return []


@pytest.fixture
def supervised(taps: list[CardTap]) -> Iterator[Callable[[OsdpReaderDriver], CardReader]]:
    readers: list[CardReader] = []

    def start(driver: OsdpReaderDriver) -> CardReader:
        reader = CardReader(driver, "front", FAST).start(taps.append)
        readers.append(reader)
        return reader

    yield start
    for reader in readers:
        reader.close()


# --- decoding, without a bus ---


def test_constants_are_libosdps() -> None:
    assert osdp.Event.CardRead == EVENT_CARDREAD
    assert osdp.CardFormat.Unspecified == FORMAT_RAW_UNSPECIFIED
    assert osdp.CardFormat.Wiegand == FORMAT_RAW_WIEGAND
    assert osdp.CardFormat.ASCII == FORMAT_ASCII


def test_pack_bits_right_aligns_and_drops_padding() -> None:
    assert pack_bits(H10301, 26) == H10301_UID
    assert pack_bits(H10301[:3] + b"\xff", 26) == pack_bits(H10301[:3] + b"\xc0", 26)
    assert pack_bits(b"\x00\x01", 16) == b"\x00\x01"  # leading zeros kept
    assert pack_bits(b"\x80", 1) == b"\x01"
    with pytest.raises(FrameError):
        pack_bits(b"", 0)
    with pytest.raises(FrameError):
        pack_bits(b"\x01", 9)


def test_card_read_from_event_formats() -> None:
    raw = {"event": 1, "format": FORMAT_RAW_UNSPECIFIED, "length": 16, "data": b"\x12\x34"}
    read = card_read_from_event(raw, 7.0)
    assert (read.uid, read.kind, read.started) == (b"\x12\x34", CardKind.WIEGAND, 7.0)
    ascii_read = card_read_from_event({"format": FORMAT_ASCII, "data": b"0012345 "}, 7.0)
    assert (ascii_read.uid, ascii_read.kind) == (b"0012345", CardKind.UNKNOWN)
    for bad in (
        {"format": 9, "data": b"\x01"},
        {"format": FORMAT_RAW_WIEGAND, "data": b"\x01"},  # no bit count
        {"format": FORMAT_RAW_WIEGAND, "length": 8},  # no data
        {"format": FORMAT_RAW_WIEGAND, "length": 300, "data": bytes(38)},  # over 32 bytes
    ):
        with pytest.raises(FrameError):
            card_read_from_event(bad, 0.0)


def test_event_callback_rejects_what_it_cannot_read() -> None:
    driver = OsdpReaderDriver("/dev/null")
    assert driver._on_event(0, {"event": EVENT_CARDREAD, "format": 9, "data": b"\x01"}) == 0
    assert driver._on_event(0, {"event": EVENT_CARDREAD, "format": 1, "data": "x"}) == 0
    assert driver._on_event(0, {"event": 5, "type": 2, "arg0": 1, "arg1": 0}) == 0  # not a card
    assert driver.rejected_frames == 2


# --- opening ---


def test_module_imports_without_libosdp() -> None:
    code = (
        "import sys; sys.modules['osdp'] = sys.modules['osdp_sys'] = None\n"
        "import hardware.osdp_reader as m\n"
        "d = m.OsdpReaderDriver('/dev/ttyUSB9')\n"
        "try:\n    d.open()\nexcept m.ReaderError as e:\n    print(e)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "/dev/ttyUSB9" in done.stdout
    assert "pip install 'hubtap[osdp]'" in done.stdout


def test_open_names_a_missing_port(tmp_path: Path) -> None:
    port = str(tmp_path / "ttyUSB7")
    driver = OsdpReaderDriver(port)
    with pytest.raises(ReaderError, match="ttyUSB7"):
        driver.open()
    driver.close()
    driver.close()
    assert not driver.online
    assert driver.signal(Signal.GRANTED) is False


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ReaderError, match="16 bytes"):
        OsdpReaderDriver("/dev/ttyUSB0", secure_channel_key=b"short")
    with pytest.raises(ReaderError, match="127"):
        OsdpReaderDriver("/dev/ttyUSB0", address=127)


def test_poll_before_open_raises() -> None:
    with pytest.raises(ReaderError, match="not open"):
        OsdpReaderDriver("/dev/ttyUSB0").poll()


# --- against a libosdp PD ---


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "secure-channel"])
def test_card_read_and_signals(
    pair: PtyPair,
    start_pd: Callable[..., OsdpPd],
    supervised: Callable[[OsdpReaderDriver], CardReader],
    taps: list[CardTap],
    key: bytes | None,
) -> None:
    pd = start_pd(scbk=key)
    driver = driver_for(pair, key)
    reader = supervised(driver)
    assert wait_until(lambda: driver.online), "PD did not come online"
    assert driver.secure is (key is not None)
    assert pd.secure is (key is not None)

    assert pd.card_read(H10301, 26)
    assert wait_until(lambda: len(taps) == 1)
    time.sleep(0.2)
    assert len(taps) == 1
    assert taps[0].uid == H10301_UID
    assert taps[0].kind is CardKind.WIEGAND
    assert taps[0].reader_id == "front"
    assert reader.stats.errors == 0

    assert reader.signal(Signal.GRANTED)
    green, beep = pd.wait_commands(2)[:2]
    assert green["command"] == osdp.Command.LED
    assert green["temporary"] is True
    assert green["control_code"] == 2
    assert green["on_color"] == osdp.CommandLEDColor.Green
    assert green["timer_count"] == 10  # 1 s
    assert beep["command"] == osdp.Command.Buzzer
    assert (beep["control_code"], beep["on_count"], beep["rep_count"]) == (2, 1, 1)

    assert reader.signal(Signal.DENIED)
    red, beeps = pd.wait_commands(4)[2:4]
    assert red["command"] == osdp.Command.LED
    assert red["on_color"] == osdp.CommandLEDColor.Red
    assert red["off_color"] == osdp.CommandLEDColor.Black
    assert (red["on_count"], red["off_count"], red["timer_count"]) == (2, 2, 12)  # 3 flashes
    assert beeps["command"] == osdp.Command.Buzzer
    assert beeps["rep_count"] == 3

    assert reader.signal(Signal.OFFLINE)
    assert reader.signal(Signal.IDLE)
    offline, idle = pd.wait_commands(6)[4:6]
    assert offline["temporary"] is False
    assert offline["control_code"] == 1
    assert offline["on_color"] == osdp.CommandLEDColor.Amber
    assert offline["off_count"] > offline["on_count"]  # a slow blink
    assert idle["temporary"] is False
    assert idle["on_color"] == idle["off_color"] == osdp.CommandLEDColor.Black


def test_mismatched_keys_deliver_nothing(
    pair: PtyPair,
    start_pd: Callable[..., OsdpPd],
    supervised: Callable[[OsdpReaderDriver], CardReader],
    taps: list[CardTap],
) -> None:
    pd = start_pd(scbk=OTHER_KEY)
    driver = driver_for(pair, KEY, online_timeout_s=0.5)
    reader = supervised(driver)
    pd.card_read(H10301, 26)
    assert wait_until(lambda: reader.stats.errors >= 2)
    assert "did not come online" in (reader.stats.last_error or "")
    assert taps == []
    assert not driver.online
    assert reader.signal(Signal.GRANTED) is False


def test_pd_power_loss_then_back(
    pair: PtyPair,
    start_pd: Callable[..., OsdpPd],
    supervised: Callable[[OsdpReaderDriver], CardReader],
    taps: list[CardTap],
) -> None:
    pd = start_pd()
    driver = driver_for(pair)
    reader = supervised(driver)
    assert wait_until(lambda: driver.online)

    pd.stop()  # the reader loses power; the bus and adapter stay
    assert wait_until(lambda: reader.stats.errors >= 1)
    assert "offline" in (reader.stats.last_error or "")
    assert taps == []

    back = start_pd()
    assert wait_until(lambda: driver.online)
    assert reader.stats.opens >= 2
    back.card_read(b"\x12\x34\x56", 24)
    assert wait_until(lambda: len(taps) == 1)
    assert taps[0].uid == b"\x12\x34\x56"


def test_adapter_unplugged(
    pair: PtyPair,
    start_pd: Callable[..., OsdpPd],
    supervised: Callable[[OsdpReaderDriver], CardReader],
    taps: list[CardTap],
) -> None:
    pd = start_pd()
    driver = driver_for(pair)
    reader = supervised(driver)
    assert wait_until(lambda: driver.online)
    port = pair.port

    pd.stop()
    pair.close()  # the USB RS-485 adapter is gone: reads fail, then opens do
    assert wait_until(lambda: reader.stats.errors >= 3)
    assert port in (reader.stats.last_error or "")
    assert not reader.is_open
    assert not driver.online
    assert taps == []
