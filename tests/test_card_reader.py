"""The reader supervisor: taps delivered once, failures counted, readers come back."""

import threading
import time

import pytest

from hardware.errors import ReaderError
from hardware.mock_reader import MockReaderDriver
from hardware.reader import CardReader, ReaderTiming
from hardware.taps import CardKind, CardRead
from tests.helpers.collect import Collector
from tests.helpers.waiting import wait_until

FAST = ReaderTiming(retap_gap_s=0.3, reopen_min_s=0.02, reopen_max_s=0.1)


@pytest.fixture
def driver():
    return MockReaderDriver()


@pytest.fixture
def reader(driver):
    taps = Collector()
    reader = CardReader(driver, "front", FAST).start(taps)
    reader.taps = taps
    assert reader.wait_open(5)
    yield reader
    reader.close()


def test_a_tap_arrives_with_uid_kind_reader_and_latency(reader, driver):
    driver.tap("0004A1B2")
    assert reader.taps.wait_for(1)
    tap = reader.taps.items[0]
    assert tap.uid == b"\x00\x04\xa1\xb2"
    assert tap.kind is CardKind.ISO14443A
    assert tap.reader_id == "front"
    assert 0 <= tap.read_latency_s < 5
    assert tap.at.tzinfo is not None


def test_a_held_card_is_one_tap_and_a_new_tap_after_the_gap(reader, driver):
    driver.present("04A1B2C3D4E5F6")
    assert wait_until(lambda: reader.stats.reads >= 20)  # polled many times while held
    driver.remove()
    assert len(reader.taps.items) == 1
    time.sleep(FAST.retap_gap_s + 0.1)
    driver.tap("04A1B2C3D4E5F6")
    assert reader.taps.wait_for(2)
    assert reader.stats.taps == 2


def test_a_failing_poll_is_counted_and_the_reader_reopens(reader, driver):
    driver.fail_next(OSError(5, "Input/output error"))
    assert wait_until(lambda: driver.opened >= 2)
    assert reader.stats.errors == 1
    assert "Input/output error" in reader.stats.last_error
    driver.tap("01020304")
    assert reader.taps.wait_for(1)


def test_an_unplugged_reader_is_retried_with_backoff_until_it_is_back(reader, driver):
    driver.unplug()
    assert wait_until(lambda: reader.stats.errors >= 4)  # the poll failed, then opens kept failing
    assert not reader.is_open
    errors_while_unplugged = reader.stats.errors
    driver.plug()
    assert reader.wait_open(5)
    driver.tap("01020304")
    assert reader.taps.wait_for(1)
    assert reader.stats.errors == errors_while_unplugged
    assert driver.opened == 2


def test_a_handler_that_raises_is_counted_and_polling_goes_on(driver):
    seen = []

    def handler(tap):
        seen.append(tap)
        if len(seen) == 1:
            raise ValueError("bug in the door")

    with CardReader(driver, "r", FAST).start(handler) as reader:
        driver.tap("01020304")
        assert wait_until(lambda: len(seen) == 1)
        driver.tap("05060708")
        assert wait_until(lambda: len(seen) == 2)
        assert reader.stats.handler_errors == 1
        assert reader.stats.errors == 0


class SlowDriver(MockReaderDriver):
    """A reader whose polls become slow, as a wedged PN532's do."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = threading.Event()

    def poll(self) -> list[CardRead]:
        if self.slow.is_set():
            time.sleep(0.06)
        return super().poll()


def test_a_reader_whose_polls_degrade_is_reinitialised():
    driver = SlowDriver()
    timing = ReaderTiming(reopen_min_s=0.01, reopen_max_s=0.02, degraded_poll_s=0.05)
    with CardReader(driver, "r", timing).start(lambda tap: None) as reader:
        assert reader.wait_open(5)
        time.sleep(0.2)
        assert reader.stats.reinitialised == 0  # normal polls are not degraded
        driver.slow.set()
        assert wait_until(lambda: reader.stats.reinitialised >= 1)
        assert "3 polls in a row took over 0.05 s" in reader.stats.last_error
        assert wait_until(lambda: driver.opened >= 2)  # reopened after the reset


def test_close_is_safe_twice_and_starting_twice_is_refused(driver):
    reader = CardReader(driver, "r", FAST).start(lambda tap: None)
    with pytest.raises(ReaderError, match="already started"):
        reader.start(lambda tap: None)
    reader.close()
    reader.close()
    assert not reader.is_open


def test_the_mock_reader_refuses_uids_of_the_wrong_length(driver):
    with pytest.raises(ReaderError, match="iso14443a UID of 5 bytes"):
        driver.tap("0102030405")
