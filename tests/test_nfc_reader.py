"""NFC readers through real nfcpy: the UDP driver on one end, the card emulator on the other."""

import errno
import socket
import threading
import time

import nfc
import pytest
from nfc.clf import RemoteTarget

from hardware.emulator import CardEmulator, EmulatedCard, Type2Memory
from hardware.errors import EmulatorError
from hardware.nfc_reader import NfcReaderDriver
from hardware.reader import CardReader, ReaderTiming
from hardware.taps import CardKind
from hub_server.demo import free_port
from tests.helpers.collect import Collector
from tests.helpers.waiting import wait_until

TIMING = ReaderTiming(retap_gap_s=0.3, reopen_min_s=0.02, reopen_max_s=0.1)


@pytest.fixture
def port() -> int:
    return free_port(kind=socket.SOCK_DGRAM)


@pytest.fixture
def emulator(port) -> CardEmulator:
    return CardEmulator(port=port)


def udp_reader(port, targets=("106A",), timing=TIMING) -> CardReader:
    driver = NfcReaderDriver(f"udp:127.0.0.1:{port}", targets, poll_interval_s=0.01)
    taps = Collector()
    reader = CardReader(driver, "door-front", timing).start(taps)
    reader.taps = taps
    assert reader.wait_open(5)
    return reader


@pytest.mark.parametrize(
    ("uid", "kind"),
    [
        ("00A1B2C3", CardKind.ISO14443A),  # 4 bytes, leading zero
        ("04A1B2C3D4E5F6", CardKind.ISO14443A),  # 7 bytes, NXP
        ("000102030405060708FF", CardKind.ISO14443A),  # 10 bytes, two leading zeros
        ("0012345678ABCDEF", CardKind.FELICA),  # FeliCa IDm
    ],
)
def test_each_card_kind_reads_end_to_end_with_its_exact_uid(port, emulator, uid, kind):
    # The card is on the reader first and stays until the reader closes, so no
    # poll waits out the UDP driver's one-second timeout for an empty field.
    with emulator.holding(uid), udp_reader(port, targets=("106A", "212F")) as reader:
        assert reader.taps.wait_for(1, timeout=10)
    tap = reader.taps.items[0]
    assert (tap.uid_hex, tap.kind) == (uid, kind)
    assert tap.reader_id == "door-front"
    assert reader.stats.errors == 0


def test_a_card_held_for_a_while_is_one_tap_and_a_second_tap_is_another(port, emulator):
    with udp_reader(port) as reader:
        with emulator.holding("04A1B2C3D4E5F6"):
            assert reader.taps.wait_for(1, timeout=10)
            time.sleep(1.0)  # held: polled again and again
        assert reader.stats.reads > 5
        assert len(reader.taps.items) == 1
        time.sleep(TIMING.retap_gap_s + 0.2)
        with emulator.holding("04A1B2C3D4E5F6"):
            assert reader.taps.wait_for(2, timeout=10)
    assert [t.uid_hex for t in reader.taps.items] == ["04A1B2C3D4E5F6"] * 2


def test_plain_nfcpy_activates_an_emulated_nxp_tag_without_losing_the_re_sense(port, emulator):
    # nfcpy's NXP activation probes AUTHENTICATE, which a Type 2 tag ignores,
    # then senses the tag again; the emulator must answer that re-sense at
    # once or activation fails on this single attempt.
    attempts = []
    clf = nfc.ContactlessFrontend(f"udp:127.0.0.1:{port}")
    try:
        with emulator.holding("04A1B2C3D4E5F6"):
            time.sleep(0.1)
            tag = clf.connect(
                rdwr={"targets": ["106A"], "iterations": 1, "on-connect": lambda tag: False},
                terminate=lambda: attempts.append(1) or len(attempts) > 1,
            )
    finally:
        clf.close()
    assert tag is not None
    assert tag.product == "NXP NTAG213"
    assert bytes(tag.identifier).hex().upper() == "04A1B2C3D4E5F6"


def test_the_emulated_tag_memory_carries_its_uid_and_check_bytes():
    memory = Type2Memory(bytes.fromhex("04A1B2C3D4E5F6"))
    page0 = memory.respond(b"\x30\x00")
    assert page0[:3] == bytes.fromhex("04A1B2")
    assert page0[3] == 0x88 ^ 0x04 ^ 0xA1 ^ 0xB2
    assert page0[4:8] == bytes.fromhex("C3D4E5F6")
    assert page0[8] == 0xC3 ^ 0xD4 ^ 0xE5 ^ 0xF6
    assert page0[12:16] == bytes.fromhex("E1101200")  # capability container
    assert memory.respond(b"\x60") == bytes.fromhex("0004040201000F03")
    assert memory.respond(b"\x1a\x00") is None  # unsupported: mute, like a real tag


def test_a_second_emulator_on_the_same_port_is_refused(port, emulator):
    with emulator.holding("01020304"):
        time.sleep(0.1)
        with pytest.raises(EmulatorError, match=f"cannot emulate on 127.0.0.1:{port}"):
            CardEmulator(port=port).hold("05060708", 0.1)


@pytest.mark.parametrize("uid", ["0102", "0102030405", "zz"])
def test_the_emulator_refuses_cards_it_cannot_be(uid):
    with pytest.raises(EmulatorError):
        EmulatedCard.parse(uid)


def test_a_reader_polling_an_empty_field_reads_nothing_and_reports_no_error(port):
    with udp_reader(port) as reader:
        time.sleep(1.5)
    assert reader.stats.taps == 0
    assert reader.stats.errors == 0


def test_no_usb_reader_here_is_an_error_retried_not_a_crash():
    driver = NfcReaderDriver("usb:ffff:ffff")  # real nfcpy: no such device on this machine
    with CardReader(driver, "r", TIMING).start(lambda tap: None) as reader:
        wait_until(lambda: reader.stats.errors >= 2, 5)
        assert reader.stats.errors >= 2
        assert "no NFC reader at 'usb:ffff:ffff'" in reader.stats.last_error
        assert not reader.is_open


class FlakyFrontend:
    """nfcpy's frontend on the UDP driver, with faults a test switches on."""

    def __init__(self, path: str, faults: dict) -> None:
        self._clf = nfc.ContactlessFrontend(path)
        self.faults = faults

    def sense(self, *targets, **options):
        if self.faults.get("unplugged"):
            raise OSError(errno.ENODEV, "No such device")
        if self.faults.get("type_b"):
            return RemoteTarget("106B", sensb_res=bytearray(12))
        return self._clf.sense(*targets, **options)

    def close(self):
        self._clf.close()


def test_a_reader_that_vanishes_mid_read_is_counted_reopened_and_reads_again(port, emulator):
    faults: dict = {}
    opened = []

    def factory(path):
        if faults.get("unplugged"):
            raise OSError(errno.ENODEV, "No such device")
        opened.append(path)
        return FlakyFrontend(path, faults)

    driver = NfcReaderDriver(f"udp:127.0.0.1:{port}", ["106A"], 0.01, frontend_factory=factory)
    taps = Collector()
    with CardReader(driver, "r", TIMING).start(taps) as reader:
        assert reader.wait_open(5)
        faults["unplugged"] = True
        wait_until(lambda: reader.stats.errors >= 3, 5)
        assert reader.stats.errors >= 3  # the poll, then reopen attempts
        assert "No such device" in reader.stats.last_error
        faults["unplugged"] = False
        with emulator.holding("04A1B2C3D4E5F6"):
            assert taps.wait_for(1, timeout=10)
    assert len(opened) == 2


def test_an_unknown_card_type_is_rejected_and_counted_without_a_crash(port, emulator):
    faults = {"type_b": True}
    driver = NfcReaderDriver(
        f"udp:127.0.0.1:{port}", ["106A"], 0.01, frontend_factory=lambda p: FlakyFrontend(p, faults)
    )
    taps = Collector()
    with CardReader(driver, "r", TIMING).start(taps) as reader:
        wait_until(lambda: reader.rejected_frames >= 3, 5)
        assert reader.rejected_frames >= 3
        assert taps.items == []
        faults["type_b"] = False
        with emulator.holding("01020304"):
            assert taps.wait_for(1, timeout=10)
        assert reader.stats.errors == 0


def test_holding_a_card_ends_as_soon_as_it_is_asked_to(port, emulator):
    stop = threading.Event()
    started = time.monotonic()
    stop.set()
    assert emulator.hold("01020304", 30, stop) == 0
    assert time.monotonic() - started < 5
