"""Card UIDs and the debouncing that turns sightings into taps."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.errors import FrameError
from hardware.taps import CardKind, CardTap, TapDebouncer, check_uid, parse_uid


@pytest.mark.parametrize(
    ("text", "uid"),
    [
        ("04A1B2C3D4E5F6", b"\x04\xa1\xb2\xc3\xd4\xe5\xf6"),
        ("04:a1:b2:c3", b"\x04\xa1\xb2\xc3"),
        ("00 00 12 34", b"\x00\x00\x12\x34"),
        ("0000-0001", b"\x00\x00\x00\x01"),
    ],
)
def test_uids_parse_from_hex_and_keep_leading_zeros(text, uid):
    assert parse_uid(text) == uid


@pytest.mark.parametrize("text", ["", "0", "04A1B", "zz00", "04A1B2C3;", "0x04A1"])
def test_text_that_is_not_a_uid_is_a_frame_error(text):
    with pytest.raises(FrameError, match="not a card UID"):
        parse_uid(text)


def test_a_uid_longer_than_32_bytes_is_refused():
    with pytest.raises(FrameError, match="33 bytes"):
        parse_uid("00" * 33)


@given(st.binary(min_size=1, max_size=32))
def test_any_uid_round_trips_through_hex(uid):
    tap = CardTap(uid=uid, kind=CardKind.UNKNOWN, reader_id="r")
    assert parse_uid(tap.uid_hex) == uid
    assert len(tap.uid_hex) == 2 * len(uid)


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (CardKind.ISO14443A, [4, 7, 10], [3, 5, 8]),
        (CardKind.FELICA, [8], [7, 4]),
        (CardKind.EM4100, [5], [4, 6]),
    ],
)
def test_uid_lengths_are_checked_per_card_kind(kind, good, bad):
    for length in good:
        assert check_uid(bytes(length), kind) == bytes(length)
    for length in bad:
        with pytest.raises(FrameError, match=f"{kind} UID of {length} bytes"):
            check_uid(bytes(length), kind)


def test_a_card_held_on_the_reader_is_one_tap():
    debouncer = TapDebouncer(retap_gap_s=0.5)
    sightings = [debouncer.is_new(b"\x01", t / 10) for t in range(50)]  # 5 s, every 0.1 s
    assert sightings == [True] + [False] * 49


def test_a_card_tapped_again_after_the_gap_is_a_new_tap():
    debouncer = TapDebouncer(retap_gap_s=0.5)
    assert debouncer.is_new(b"\x01", 0.0)
    assert not debouncer.is_new(b"\x01", 0.4)  # back within the gap: the same tap
    assert debouncer.is_new(b"\x01", 1.0)  # away 0.6 s: a new tap
    assert debouncer.is_new(b"\x02", 1.0)  # another card is its own tap


def test_a_gap_of_zero_reports_every_sighting():
    debouncer = TapDebouncer(retap_gap_s=0)
    assert all(debouncer.is_new(b"\x01", t / 10) for t in range(5))


def test_the_debouncer_forgets_old_cards():
    debouncer = TapDebouncer(retap_gap_s=1.0)
    for n in range(1000):
        debouncer.is_new(n.to_bytes(4, "big"), float(n))
    assert len(debouncer._last_seen) <= 65
