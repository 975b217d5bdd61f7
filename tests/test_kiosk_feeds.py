"""The kiosk's replica of what the hub publishes, and its cache file."""

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from hublink.link import Delivery
from hublink.messages import AccessEvent, Message
from hublink.topics import Topics
from kiosk import bus
from kiosk.cache import Cache
from kiosk.errors import CacheError
from kiosk.feeds import Feeds
from tests.helpers.kiosk_data import (
    ASA,
    BJORN,
    DEFAULT_DIRECTORY,
    DEFAULT_OCCUPANCY,
    NOW,
    FakeClock,
    directory,
    make_rig,
    occupancy,
    zone,
)


@pytest.fixture
def cache(tmp_path):
    with Cache(tmp_path / "kiosk.sqlite3") as cache:
        yield cache


def feeds_on(cache: Cache, clock: FakeClock | None = None) -> tuple[Feeds, list[str]]:
    heard: list[str] = []
    feeds = Feeds(cache, heard.append, (clock or FakeClock()).utc)
    feeds.load_cached()
    return feeds, heard


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'{"v": 1}',
        b'{"v": 9, "id": "019abc12-3456-7def-8123-456789abcdef", "ts": "2026-11-25T08:00:00Z"}',
        b"\xff\xfe",
        directory((ASA, "m-asa", "Åsa"))[:-5],
    ],
)
def test_a_bad_payload_is_counted_and_the_last_good_value_stays(cache, payload):
    feeds, heard = feeds_on(cache)
    feeds.directory_payload(DEFAULT_DIRECTORY)
    feeds.occupancy_payload(DEFAULT_OCCUPANCY)
    heard.clear()
    feeds.directory_payload(payload)
    feeds.occupancy_payload(payload)
    feeds.events_payload(payload)
    assert feeds.rejected == 3
    assert heard == []
    assert feeds.who(ASA) is not None
    assert feeds.who(ASA).first_name == "Åsa"
    assert feeds.snapshot().occupancy is not None
    again, _ = feeds_on(cache)  # nor did the bad payload reach the cache
    assert again.who(ASA) is not None


def test_a_new_directory_replaces_the_old_one_wholly(cache):
    feeds, heard = feeds_on(cache)
    feeds.directory_payload(DEFAULT_DIRECTORY)
    feeds.directory_payload(directory((BJORN, "m-bjorn", "Björn"), version=2))
    assert feeds.who(ASA) is None  # revoked, or erased: gone from the kiosk too
    assert feeds.who(BJORN).first_name == "Björn"
    assert feeds.snapshot().directory_version == 2
    assert feeds.snapshot().directory_size == 1
    assert heard == ["directory", "directory"]


def test_everything_comes_back_from_the_cache_after_a_restart(cache):
    clock = FakeClock()
    feeds, _ = feeds_on(cache, clock)
    feeds.directory_payload(DEFAULT_DIRECTORY)
    feeds.occupancy_payload(occupancy([zone("glade", "Forest glade", 4, 12)]))
    clock.advance(90)
    feeds.occupancy_payload(occupancy([zone("glade", "Forest glade", 5, 12)]))
    restarted, _ = feeds_on(cache)
    snapshot = restarted.snapshot()
    assert snapshot.occupancy is not None
    assert snapshot.occupancy.zones[0].count == 5
    assert snapshot.last_heard == clock.now
    assert restarted.who(ASA) is not None
    assert not snapshot.online  # nothing is online until the link says so


def test_a_corrupt_cached_value_is_skipped(cache, caplog):
    feeds, _ = feeds_on(cache)
    cache.save("occupancy", b"garbage", NOW)
    feeds.directory_payload(DEFAULT_DIRECTORY)
    restarted, _ = feeds_on(cache)
    assert restarted.snapshot().occupancy is None
    assert restarted.who(ASA) is not None
    assert "ignoring the cached occupancy" in caplog.text


def test_online_needs_the_link_and_the_hub(cache):
    feeds, heard = feeds_on(cache)
    feeds.hub_status(True)  # the retained 'online' comes before the watcher sees the link up
    assert not feeds.online
    feeds.link_status(True)
    assert feeds.online
    feeds.link_status(True)  # no change, no noise
    feeds.link_status(False)
    assert not feeds.online
    feeds.link_status(True)
    assert not feeds.online  # until the hub's retained availability comes again
    assert heard.count("online") == 4


def test_an_unwritable_cache_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CacheError, match="cannot open the kiosk cache"):
        Cache(blocker / "kiosk.sqlite3")


def test_a_closed_cache_says_so_and_closes_twice(cache):
    cache.close()
    cache.close()
    with pytest.raises(CacheError, match="closed"):
        cache.waiting()


def test_the_cache_is_an_ordinary_sqlite_file(cache):
    cache.save("occupancy", DEFAULT_OCCUPANCY, NOW)
    with sqlite3.connect(cache.path) as db:
        assert db.execute("SELECT name FROM retained").fetchall() == [("occupancy",)]


class RecordingLink:
    """Enough of a Link for ``kiosk.bus.attach``: it keeps each subscription's handler."""

    def __init__(self) -> None:
        self.topics = Topics("testsite")
        self.handlers: dict[str, Callable[[Any], None]] = {}

    def subscribe(self, topic_filter: str, handler: Callable[[Any], None], **_: object) -> None:
        self.handlers[topic_filter] = handler

    def subscribe_payload(self, topic_filter: str, handler: Callable[[Any], None]) -> None:
        self.handlers[topic_filter] = handler

    def deliver(self, topic: str, message: Message) -> None:
        spec = self.topics.spec_for(topic)
        self.handlers[topic](Delivery(topic, spec, {"door_id": "front"}, message, False))


def test_a_door_tap_sent_late_greets_nobody(tmp_path):
    rig = make_rig(tmp_path)
    link = RecordingLink()
    stats = bus.attach(
        link,
        "entrance",
        "front",
        rig.feeds,
        rig.model,  # type: ignore[arg-type]
        tap_max_age_s=10,
        clock=rig.clock.utc,
    )
    topic = link.topics.door_event("front")
    late = AccessEvent(
        ts=NOW - timedelta(seconds=11),
        reader_id="main",
        credential=ASA,
        granted=True,
        reason="member",
        member_id="m-asa",
    )
    link.deliver(topic, late)
    assert rig.model.screen == "idle"
    assert (stats.taps, stats.stale_taps) == (0, 1)
    link.deliver(topic, late.model_copy(update={"ts": NOW - timedelta(seconds=9)}))
    assert rig.model.view().greeting == "Hej, Åsa!"
    assert (stats.taps, stats.stale_taps) == (1, 1)
