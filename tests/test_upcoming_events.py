"""The retained events/upcoming topic: free seats for every kiosk, never a name."""

import threading
from datetime import timedelta

import pytest

from hub_server import events, signups
from hub_server.events import EventChange
from hub_server.models import build
from hub_server.store import Store
from hub_server.upcoming_events import UpcomingPublisher
from hublink.messages import UPCOMING_EVENTS, Message, UpcomingEvents
from tests.helpers.community_data import ACTOR, NOW, add_event, community
from tests.helpers.waiting import wait_until


class Sent:
    """A stand-in link that decodes what it is given, as a kiosk would receive it."""

    def __init__(self) -> None:
        self.messages: list[UpcomingEvents] = []
        self.payloads: list[bytes] = []
        self.lock = threading.Lock()

    def publish(self, topic: str, message: Message) -> bool:
        assert topic == "events/upcoming"
        payload = UPCOMING_EVENTS.encode(message)
        with self.lock:
            self.payloads.append(payload)
            self.messages.append(UPCOMING_EVENTS.decode(payload))
        return True

    def last(self) -> UpcomingEvents:
        with self.lock:
            return self.messages[-1]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def store():
    with Store.memory() as store:
        yield community(store)


def publisher(store, sent, clock, **options):
    return UpcomingPublisher(store, sent, "events/upcoming", days=7, clock=clock, **options)


def seats(message):
    return [(e.event_id, e.capacity, e.taken, e.waitlist, e.max_guests) for e in message.events]


def test_the_list_has_seats_taken_and_waitlists_and_no_names(store):
    event = add_event(store, capacity=2, max_guests=1)
    sent, clock = Sent(), Clock()
    up = publisher(store, sent, clock)
    assert up.publish(force=True)
    assert seats(sent.last()) == [(event.id, 2, 0, 0, 1)]
    signups.sign_up(store, event.id, "m-asa", guests=1, actor=ACTOR, source="cli", now=NOW)
    signups.sign_up(store, event.id, "m-bjorn", actor=ACTOR, source="cli", now=NOW)
    assert up.check()
    assert seats(sent.last()) == [(event.id, 2, 2, 1, 1)]
    assert not up.check()  # nothing changed, nothing looked at
    assert not up.publish()  # looked, the same: not sent again
    for payload in sent.payloads:
        for private in ("Åsa", "Björn", "Sigrid", "m-asa", "m-sigrid", "Test"):
            assert private.encode() not in payload


def test_events_outside_the_window_or_cancelled_are_left_out_and_ended_ones_leave(store):
    soon = add_event(store, title="Soon", starts_at=NOW + timedelta(hours=1),
                     ends_at=NOW + timedelta(hours=2))  # fmt: skip
    add_event(store, title="Next month", starts_at=NOW + timedelta(days=30),
              ends_at=NOW + timedelta(days=30, hours=1))  # fmt: skip
    off = add_event(store, title="Off", starts_at=NOW + timedelta(hours=3),
                    ends_at=NOW + timedelta(hours=4))  # fmt: skip
    events.cancel(store, off.id, actor=ACTOR, now=NOW)
    sent, clock = Sent(), Clock()
    ticks = [0.0]
    up = publisher(store, sent, clock, refresh_s=60, monotonic=lambda: ticks[0])
    up.publish(force=True)
    assert [e.event_id for e in sent.last().events] == [soon.id]
    clock.now = NOW + timedelta(hours=2, minutes=1)
    assert not up.check()  # no change and no refresh due yet
    ticks[0] = 61.0
    assert up.check()
    assert sent.last().events == ()


def test_a_change_from_another_connection_reaches_the_topic_within_a_poll(store, tmp_path):
    path = tmp_path / "hub.sqlite3"
    with Store.open(path) as server_store:
        community(server_store)
        event = add_event(server_store, capacity=5)
        sent, clock = Sent(), Clock()
        up = publisher(server_store, sent, clock, poll_interval_s=0.02).start()
        try:
            with Store.open(path) as cli_store:  # as a hubtap command would
                events.update(cli_store, event.id, build(EventChange, capacity=9), actor=ACTOR,
                              now=NOW)  # fmt: skip
            assert wait_until(lambda: seats(sent.last())[0][1] == 9, timeout=5)
        finally:
            up.stop()
