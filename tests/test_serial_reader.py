"""Serial card readers: the stream decoders, then the driver end to end over real ptys."""

import itertools
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.errors import ReaderError
from hardware.mock_reader import MockReaderDriver
from hardware.reader import CardReader, ReaderTiming
from hardware.serial_reader import (
    LineDecoder,
    Rdm6300Decoder,
    SerialProtocol,
    SerialReaderDriver,
    kind_for_length,
    rdm6300_frame,
)
from hardware.taps import CardKind, CardTap
from tests.helpers.pty_pair import PtyPair
from tests.helpers.socat import SocatPty
from tests.helpers.waiting import wait_until

STX, ETX = b"\x02", b"\x03"


def frame(uid: bytes, *, checksum: int | None = None, lower: bool = False) -> bytes:
    """An RDM6300 frame, built here independently of the code under test."""
    assert len(uid) == 5
    if checksum is None:
        checksum = uid[0] ^ uid[1] ^ uid[2] ^ uid[3] ^ uid[4]
    digits = (uid + bytes([checksum])).hex()
    return STX + (digits if lower else digits.upper()).encode() + ETX


# -- RDM6300 decoder ---------------------------------------------------------


def test_a_real_frame_decodes_to_its_five_bytes():
    assert frame(bytes.fromhex("1A00ABCDEF")) == b"\x021A00ABCDEF93\x03"
    decoder = Rdm6300Decoder()
    assert decoder.feed(b"\x021A00ABCDEF93\x03") == [bytes.fromhex("1A00ABCDEF")]
    assert decoder.rejected == 0


def test_the_frame_builder_matches_the_wire_format():
    assert rdm6300_frame(bytes.fromhex("1A00ABCDEF")) == b"\x021A00ABCDEF93\x03"


def test_leading_zero_bytes_are_kept():
    assert Rdm6300Decoder().feed(b"\x02000000000101\x03") == [b"\x00\x00\x00\x00\x01"]


def test_lower_case_hex_and_crlf_around_frames_are_tolerated():
    decoder = Rdm6300Decoder()
    stream = b"\r\n" + b"\x021a00abcdef93\x03" + b"\r\n" + b"\x021A00ABCDEF93\x03\r\n"
    assert decoder.feed(stream) == [bytes.fromhex("1A00ABCDEF")] * 2
    assert decoder.rejected == 0


def test_a_frame_split_into_single_bytes_decodes_once():
    decoder = Rdm6300Decoder()
    data = frame(b"\x01\x02\x03\x04\x05")
    got = [uid for i in range(len(data)) for uid in decoder.feed(data[i : i + 1])]
    assert got == [b"\x01\x02\x03\x04\x05"]


GOOD = bytes.fromhex("0102030405")


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(frame(GOOD, checksum=0x00), id="bad-checksum"),
        pytest.param(b"\x0201020304G501\x03", id="bad-hex-digit"),
        pytest.param(b"\x02010203040\x03", id="too-short"),
        pytest.param(b"\x020102030405011\x03", id="too-long"),
        pytest.param(b"\x02010203040501X", id="missing-etx"),
        pytest.param(b"\x02010203040501", id="cut-off-by-next-frame"),
        pytest.param(b"\x020102 030405\x03", id="space-inside"),
        pytest.param(b"\x0201020304\r\n0501\x03", id="line-break-inside"),
        pytest.param(b"garbage \xff\xfe\x00", id="garbage"),
        pytest.param(b"\x03", id="stray-etx"),
    ],
)
def test_a_corrupt_frame_is_counted_once_and_the_next_good_frame_survives(corrupt):
    decoder = Rdm6300Decoder()
    assert decoder.feed(corrupt + frame(GOOD)) == [GOOD]
    assert decoder.rejected == 1


def test_a_run_of_garbage_counts_once():
    decoder = Rdm6300Decoder()
    assert decoder.feed(b"noise" * 100) == []
    assert decoder.feed(b"more noise" + frame(GOOD)) == [GOOD]
    assert decoder.rejected == 1


def test_endless_garbage_is_not_buffered():
    decoder = Rdm6300Decoder()
    decoder.feed(b"\x02" + b"A" * 1_000_000)  # a frame that never ends
    assert len(decoder._frame) <= 12
    decoder.feed(bytes(range(256)) * 4000)
    assert len(decoder._frame) <= 12
    assert decoder.feed(frame(GOOD)) == [GOOD]


uids5 = st.binary(min_size=5, max_size=5)


@given(uid=uids5, lower=st.booleans(), crlf=st.booleans())
def test_any_id_round_trips_through_a_frame(uid, lower, crlf):
    data = frame(uid, lower=lower)
    if crlf:
        data = b"\r\n" + data + b"\r\n"
    decoder = Rdm6300Decoder()
    assert decoder.feed(data) == [uid]
    assert decoder.rejected == 0


def chunked(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    """``data`` split at the given (any) positions."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(points):
        yield data[start:end]


def is_subsequence(wanted: list[bytes], got: list[bytes]) -> bool:
    it = iter(got)
    return all(any(w == g for g in it) for w in wanted)


@given(
    cards=st.lists(st.tuples(uids5, st.binary(max_size=40)), max_size=8),
    lead=st.binary(max_size=40),
    cuts=st.lists(st.integers(min_value=0), max_size=10),
)
def test_garbage_between_frames_never_loses_a_frame(cards, lead, cuts):
    stream = lead + b"".join(frame(uid) + garbage for uid, garbage in cards)
    decoder = Rdm6300Decoder()
    got = [uid for chunk in chunked(stream, cuts) for uid in decoder.feed(chunk)]
    assert is_subsequence([uid for uid, _ in cards], got)
    assert len(decoder._frame) <= 12


@given(
    cards=st.lists(
        st.tuples(uids5, st.binary(max_size=40).map(lambda b: b.replace(STX, b""))),
        max_size=8,
    ),
    cuts=st.lists(st.integers(min_value=0), max_size=10),
)
def test_garbage_without_stx_is_counted_per_run_and_yields_nothing(cards, cuts):
    stream = b"".join(frame(uid) + garbage for uid, garbage in cards)
    decoder = Rdm6300Decoder()
    got = [uid for chunk in chunked(stream, cuts) for uid in decoder.feed(chunk)]
    assert got == [uid for uid, _ in cards]
    assert decoder.rejected == sum(1 for _, g in cards if g.strip(b"\r\n"))


@given(uid=uids5, delta=st.integers(min_value=1, max_value=255), lower=st.booleans())
def test_a_wrong_checksum_is_rejected_and_counted(uid, delta, lower):
    good = uid[0] ^ uid[1] ^ uid[2] ^ uid[3] ^ uid[4]
    decoder = Rdm6300Decoder()
    assert decoder.feed(frame(uid, checksum=good ^ delta, lower=lower)) == []
    assert decoder.rejected == 1
    assert decoder.feed(frame(uid)) == [uid]
    assert decoder.rejected == 1


# -- line decoder ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "uid"),
    [
        (b"04A1B2C3\r\n", "04A1B2C3"),
        (b"04:a1:b2:c3\n", "04A1B2C3"),
        (b"04-A1-B2-C3\r", "04A1B2C3"),
        (b"04 a1 b2 c3 d4 e5 f6\n", "04A1B2C3D4E5F6"),
        (b"  0000000001  \r\n", "0000000001"),
        (b"01\n", "01"),
        (b"AB" * 32 + b"\n", "AB" * 32),
    ],
)
def test_a_uid_line_decodes(line, uid):
    decoder = LineDecoder()
    assert decoder.feed(line) == [bytes.fromhex(uid)]
    assert decoder.rejected == 0


def test_empty_lines_are_ignored():
    decoder = LineDecoder()
    assert decoder.feed(b"\r\n\r\n\n\r  \r\n") == []
    assert decoder.rejected == 0


@pytest.mark.parametrize(
    "bad",
    [
        b"hello\n",
        b"ABC\n",  # odd number of digits
        b"AB" * 33 + b"\n",  # 33 bytes
        b"\xff\xfe04A1\n",  # not ASCII
        b":::\n",
        b"04A1B2C3 OK\n",
    ],
)
def test_a_bad_line_is_counted_and_the_next_line_survives(bad):
    decoder = LineDecoder()
    assert decoder.feed(bad + b"04A1B2C3\n") == [bytes.fromhex("04A1B2C3")]
    assert decoder.rejected == 1


def test_an_overlong_line_is_dropped_counted_once_and_not_buffered():
    decoder = LineDecoder()
    assert decoder.feed(b"A" * 1_000_000) == []
    assert len(decoder._line) <= 100
    assert decoder.feed(b"B" * 1000 + b"\r\n04A1B2C3\r\n") == [bytes.fromhex("04A1B2C3")]
    assert decoder.rejected == 1


@given(
    uid=st.binary(min_size=1, max_size=32),
    separator=st.sampled_from(["", ":", "-", " "]),
    lower=st.booleans(),
    ending=st.sampled_from([b"\r", b"\n", b"\r\n"]),
    cuts=st.lists(st.integers(min_value=0), max_size=6),
)
def test_any_uid_line_round_trips(uid, separator, lower, ending, cuts):
    text = separator.join(f"{b:02x}" if lower else f"{b:02X}" for b in uid)
    decoder = LineDecoder()
    data = text.encode() + ending
    got = [u for chunk in chunked(data, cuts) for u in decoder.feed(chunk)]
    assert got == [uid]
    assert decoder.rejected == 0


@pytest.mark.parametrize(
    ("length", "kind"),
    [
        (4, CardKind.ISO14443A),
        (7, CardKind.ISO14443A),
        (10, CardKind.ISO14443A),
        (8, CardKind.FELICA),
        (5, CardKind.EM4100),
        (1, CardKind.UNKNOWN),
        (6, CardKind.UNKNOWN),
        (16, CardKind.UNKNOWN),
    ],
)
def test_the_card_kind_follows_the_uid_length(length, kind):
    assert kind_for_length(length) is kind


# -- the driver on its own ---------------------------------------------------


def test_a_missing_port_is_a_reader_error_naming_it(tmp_path):
    missing = str(tmp_path / "ttyUSB9")
    driver = SerialReaderDriver(missing)
    with pytest.raises(ReaderError, match="ttyUSB9") as raised:
        driver.open()
    assert missing in str(raised.value)
    driver.close()
    driver.close()


def test_an_unknown_protocol_is_refused():
    with pytest.raises(ReaderError, match="wiegand"):
        SerialReaderDriver("/dev/ttyUSB0", protocol="wiegand")  # type: ignore[arg-type]


def test_a_pyserial_url_opens_and_polls_empty():
    driver = SerialReaderDriver("loop://", poll_timeout_s=0.01)
    assert driver.description == "serial rdm6300 loop://"
    driver.open()
    assert driver.poll() == []
    driver.close()
    driver.close()


def test_polling_a_closed_driver_is_a_reader_error():
    with pytest.raises(ReaderError, match="not open"):
        SerialReaderDriver("loop://").poll()


def poll_until(driver: SerialReaderDriver, count: int, timeout: float = 2.0) -> list[bytes]:
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += [read.uid for read in driver.poll()]
    return got


def test_the_rejected_count_survives_a_reopen_and_a_partial_frame_is_dropped():
    with PtyPair() as pair:
        driver = SerialReaderDriver(pair.port, poll_timeout_s=0.05)
        driver.open()
        pair.write(frame(GOOD, checksum=0) + frame(GOOD))
        assert poll_until(driver, 1) == [GOOD]
        assert driver.rejected_frames == 1
        pair.write(b"\x020102")  # half a frame, then the reader is reopened
        assert poll_until(driver, 1, timeout=0.3) == []
        driver.close()
        driver.open()
        pair.write(frame(GOOD)[5:])  # "03040501" ETX: would complete the old frame
        pair.write(frame(GOOD))
        assert poll_until(driver, 1) == [GOOD]
        assert driver.rejected_frames == 2  # the first bad frame, and the orphaned tail
        driver.close()


# -- end to end: pty, real pyserial, the CardReader supervisor ---------------


class Taps:
    """Collects taps from the reader thread; ``wait_for`` blocks until enough came."""

    def __init__(self) -> None:
        self.taps: list[CardTap] = []
        self._cond = threading.Condition()

    def __call__(self, tap: CardTap) -> None:
        with self._cond:
            self.taps.append(tap)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[CardTap]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.taps) >= count, timeout)
            return list(self.taps)


@dataclass(frozen=True)
class Wire:
    """How one protocol sends cards, two cards to send, and corrupt input to send."""

    encode: Callable[[bytes], bytes]
    card: bytes
    card_kind: CardKind
    other: bytes
    other_kind: CardKind
    corrupt: bytes
    rejections: int  # how many rejections ``corrupt`` must count


PROTOCOLS = {
    "rdm6300": Wire(
        encode=frame,
        card=bytes.fromhex("0012AB34CD"),
        card_kind=CardKind.EM4100,
        other=bytes.fromhex("00000000FF"),
        other_kind=CardKind.EM4100,
        corrupt=frame(bytes.fromhex("0012AB34CD"), checksum=0x11)  # bad checksum
        + b"\xde\xad\xbe\xef junk"  # garbage
        + b"\x020012AB",  # cut off by the next frame
        rejections=3,
    ),
    "line": Wire(
        encode=lambda uid: uid.hex(":").encode() + b"\r\n",
        card=bytes.fromhex("04A1B2C3D4E5F6"),
        card_kind=CardKind.ISO14443A,
        other=bytes.fromhex("0000000000000001"),
        other_kind=CardKind.FELICA,
        corrupt=b"not a card\r\n" + b"04A\r\n" + b"F" * 300 + b"\r\n",
        rejections=3,
    ),
}


@pytest.fixture(params=sorted(PROTOCOLS))
def protocol(request: pytest.FixtureRequest) -> SerialProtocol:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def pair() -> Iterator[PtyPair]:
    with PtyPair() as pty:
        yield pty


def start_reader(
    port: str, protocol: SerialProtocol, timing: ReaderTiming
) -> tuple[CardReader, Taps]:
    taps = Taps()
    driver = SerialReaderDriver(port, protocol=protocol, poll_timeout_s=0.05)
    reader = CardReader(driver, "front-in", timing).start(taps)
    assert reader.wait_open(5)
    return reader, taps


def test_a_card_becomes_one_tap(pair, protocol):
    wire = PROTOCOLS[protocol]
    reader, taps = start_reader(pair.port, protocol, ReaderTiming(retap_gap_s=0.3))
    with reader:
        pair.write(wire.encode(wire.card))
        first = taps.wait_for(1)
        assert [t.uid for t in first] == [wire.card]
        assert first[0].kind is wire.card_kind
        assert first[0].reader_id == "front-in"
        assert 0 <= first[0].read_latency_s < 1
        pair.write(wire.encode(wire.other))  # a second card marks the end: nothing came between
        got = taps.wait_for(2)
        assert [t.uid for t in got] == [wire.card, wire.other]
        assert got[1].kind is wire.other_kind
        assert reader.stats.taps == 2
        assert reader.rejected_frames == 0


def test_a_held_card_is_one_tap(pair, protocol):
    wire = PROTOCOLS[protocol]
    reader, taps = start_reader(pair.port, protocol, ReaderTiming(retap_gap_s=0.3))
    with reader:
        for _ in range(10):  # held for half a second, repeated every 50 ms
            pair.write(wire.encode(wire.card))
            time.sleep(0.05)
        pair.write(wire.encode(wire.other))
        got = taps.wait_for(2)
        assert [t.uid for t in got] == [wire.card, wire.other]
        assert reader.stats.reads == 11  # every repeat was read, and debounced
        assert reader.stats.taps == 2


def test_corrupt_input_is_counted_and_not_delivered(pair, protocol):
    wire = PROTOCOLS[protocol]
    reader, taps = start_reader(pair.port, protocol, ReaderTiming(retap_gap_s=0.3))
    with reader:
        pair.write(wire.corrupt)
        pair.write(wire.encode(wire.card))
        got = taps.wait_for(1)
        assert [t.uid for t in got] == [wire.card]
        assert reader.rejected_frames == wire.rejections
        assert reader.stats.reads == 1
        assert reader.stats.errors == 0


@pytest.mark.parametrize("unplug", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_reader_that_disappears_mid_read_comes_back(tmp_path: Path, caplog, unplug):
    caplog.set_level(logging.WARNING, logger="hardware.reader")
    card, later = bytes.fromhex("0102030405"), bytes.fromhex("0A0B0C0D0E")
    timing = ReaderTiming(retap_gap_s=0.3, reopen_min_s=0.05, reopen_max_s=0.2)
    with SocatPty(tmp_path) as cable:
        cable.start()
        reader, taps = start_reader(str(cable.reader), "rdm6300", timing)
        with reader:
            cable.write(frame(card))
            assert [t.uid for t in taps.wait_for(1)] == [card]
            assert reader.stats.opens == 1

            cable.stop(unplug)  # the reader is blocked in a read right now
            assert wait_until(lambda: reader.stats.errors >= 2)  # the read, then a reopen
            assert not reader.is_open
            assert reader.stats.opens == 1
            assert f"serial reader {cable.reader} failed" in caplog.text
            assert "cannot open serial reader" in caplog.text

            cable.start()
            assert wait_until(lambda: reader.stats.opens >= 2)
            assert reader.is_open
            cable.write(frame(later))
            assert [t.uid for t in taps.wait_for(2)] == [card, later]
            assert reader.rejected_frames == 0


def test_each_new_unplug_starts_the_reopen_backoff_afresh():
    """A reader that worked between glitches comes back quickly every time.

    (An unplugged serial reader is reopened by the supervisor; its backoff
    must not keep growing across separate unplugs over a day.)
    """
    driver = MockReaderDriver(poll_period_s=0.005)
    timing = ReaderTiming(retap_gap_s=0, reopen_min_s=0.02, reopen_max_s=5.0)
    taps = Taps()
    with CardReader(driver, "front-in", timing).start(taps) as reader:
        assert reader.wait_open(5)
        for glitch in range(10):
            driver.tap(GOOD, CardKind.EM4100)  # it works ...
            taps.wait_for(glitch + 1)
            opens, failed_at = reader.stats.opens, time.monotonic()
            driver.fail_next(ReaderError("unplugged"))  # ... then fails once
            assert wait_until(lambda: reader.stats.opens > opens)  # noqa: B023
            assert time.monotonic() - failed_at < 0.5, f"glitch {glitch} took too long"
