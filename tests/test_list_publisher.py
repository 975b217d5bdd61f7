"""Access lists: what each door's list holds, and how changes reach the doors."""

import json
import time
from datetime import UTC, date, datetime

import pytest

from hub_server import access_lists, cards, doors, guests, members
from hub_server.list_publisher import MAX_DELTA_ENTRIES, ListPublisher
from hub_server.models import DoorIn, MemberChange, build
from hub_server.store import Store
from hublink.messages import ACL_DELTA, ACL_SNAPSHOT, AclDelta, AclSnapshot, Message
from hublink.topics import Topics
from tests.helpers.hub_data import credential, seed

TOPICS = Topics("s")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm
GUEST_CARD = "ab" * 32


class Sent:
    """A stand-in link that keeps what was published, encoded and decoded as a door would."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Message]] = []
        self.connected = True

    def publish(self, topic: str, message: Message) -> bool:
        codec = ACL_SNAPSHOT if topic.endswith("snapshot") else ACL_DELTA
        self.messages.append((topic, codec.decode(codec.encode(message))))  # type: ignore[arg-type]
        return self.connected

    def of(self, kind: type, door_id: str) -> list:
        return [m for _, m in self.messages if isinstance(m, kind) and m.door_id == door_id]

    def clear(self) -> None:
        self.messages.clear()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store():
    with Store.memory() as store:
        yield seed(store)


def publisher(
    store: Store, sent: Sent, clock: Clock | None = None, now: list[datetime] | None = None
) -> ListPublisher:
    """A publisher on 2026-11-25 at ``NOW`` (or at ``now[0]``, which a test may move)."""
    at = now or [NOW]
    return ListPublisher(
        store, sent, TOPICS, "Europe/Stockholm", snapshot_interval_s=1.0,
        monotonic=clock or Clock(), today=lambda: date(2026, 11, 25), clock=lambda: at[0],
    )  # fmt: skip


def entries_of(snapshot: AclSnapshot) -> dict[str, tuple[str, str, str]]:
    return {e.credential: (e.member_id, e.role, e.status) for e in snapshot.entries}


def test_every_door_gets_a_snapshot_of_the_active_cards_at_start(store):
    sent = Sent()
    publisher(store, sent).check()
    doors = sorted({m.door_id for _, m in sent.messages})
    assert doors == ["exit", "front", "glade", "side"]
    snapshot = sent.of(AclSnapshot, "front")[0]
    assert snapshot.version == 1
    assert entries_of(snapshot) == {
        credential("m-asa"): ("m-asa", "member", "active"),
        credential("m-bjorn"): ("m-bjorn", "member", "active"),
        credential("m-sigrid"): ("m-sigrid", "admin", "active"),
    }
    assert snapshot.policy.timezone == "Europe/Stockholm"
    assert not sent.of(AclDelta, "front")


def test_a_revoked_card_goes_out_as_a_delta_at_once_and_a_snapshot_later(store):
    sent, clock = Sent(), Clock()
    lists = publisher(store, sent, clock)
    lists.check()
    sent.clear()
    card = cards.find(store, member_id="m-asa")[0]
    cards.revoke(store, card.id, "test")
    lists.check()
    delta = sent.of(AclDelta, "front")
    assert [(d.from_version, d.to_version, d.removes, d.upserts) for d in delta] == [
        (1, 2, (credential("m-asa"),), ())
    ]
    assert not sent.of(AclSnapshot, "front")  # debounced
    clock.now += 1.0
    lists.check()
    snapshot = sent.of(AclSnapshot, "front")
    assert [s.version for s in snapshot] == [2]
    assert credential("m-asa") not in entries_of(snapshot[0])


def test_a_suspended_member_stays_listed_as_suspended_and_a_deactivated_one_leaves(store):
    sent = Sent()
    lists = publisher(store, sent)
    lists.check()
    sent.clear()
    members.change(store, "m-bjorn", MemberChange(status="suspended"), "test")
    members.deactivate(store, "m-sigrid", "test")
    lists.check()
    delta = sent.of(AclDelta, "front")[0]
    assert [(e.member_id, e.status) for e in delta.upserts] == [("m-bjorn", "suspended")]
    assert delta.removes == (credential("m-sigrid"),)


def test_nothing_is_sent_when_nothing_changed(store):
    sent = Sent()
    lists = publisher(store, sent)
    lists.check()
    sent.clear()
    members.change(store, "m-asa", build(MemberChange, first_name="Åse"), "test")
    assert not lists.check()  # a first name is not on the door's list
    assert sent.messages == []


def test_a_restarted_hub_keeps_the_versions_of_unchanged_lists(store):
    first = Sent()
    publisher(store, first).check()
    again = Sent()
    publisher(store, again).check()
    assert [s.version for s in again.of(AclSnapshot, "front")] == [1]
    card = cards.find(store, member_id="m-asa")[0]
    cards.revoke(store, card.id, "test")
    third = Sent()
    publisher(store, third).check()
    assert [s.version for s in third.of(AclSnapshot, "front")] == [2]


def test_the_version_is_recorded_before_anything_is_sent(store):
    sent = Sent()
    sent.connected = False
    lists = publisher(store, sent)
    lists.check()
    row = store.query_one("SELECT version, digest FROM door_lists WHERE door_id = 'front'")
    assert row["version"] == 1
    assert len(row["digest"]) == 64


def test_a_new_door_gets_its_snapshot_with_the_next_pass(store):
    sent = Sent()
    lists = publisher(store, sent)
    lists.check()
    sent.clear()
    doors.add(store, build(DoorIn, id="back", name="Back"), "test")
    lists.check()
    assert [s.version for s in sent.of(AclSnapshot, "back")] == [1]
    assert sent.of(AclSnapshot, "front") == []


def test_access_rules_put_tiers_and_schedules_in_the_groups_lists(store):
    weekly = json.dumps({"mon": ["08:00-18:00"]})
    with store.write() as db:
        db.execute("INSERT INTO tiers (id, name) VALUES ('day', 'Day pass')")
        db.execute("INSERT INTO schedules (id, name, weekly) VALUES ('office', 'Office', ?)",
                   (weekly,))  # fmt: skip
        db.execute("INSERT INTO access_rules VALUES ('staff', 'member', NULL)")
        db.execute("INSERT INTO access_rules VALUES ('staff', 'day', 'office')")
        db.execute("INSERT INTO holidays (day, name) VALUES ('2026-12-24', 'Christmas Eve')")
        db.execute("INSERT INTO holidays (day, name) VALUES ('2025-12-24', 'past')")
        db.execute("UPDATE doors SET door_group = 'staff' WHERE id = 'side'")
    lists = access_lists.compute(store, "Europe/Stockholm", date(2026, 11, 25))
    side, front = lists["side"], lists["front"]
    assert side.policy.tiers == {"member": None, "day": "office"}
    assert [s.id for s in side.policy.schedules] == ["office"]
    assert side.policy.holidays == (date(2026, 12, 24),)
    assert {e.tier for e in side.all_entries()} == {"member"}
    assert front.policy.tiers == {}
    assert {e.tier for e in front.all_entries()} == {None}
    assert side.digest != front.digest


def test_a_policy_change_rides_on_the_delta(store):
    sent = Sent()
    lists = publisher(store, sent)
    lists.check()
    sent.clear()
    with store.write() as db:
        db.execute("INSERT INTO access_rules VALUES ('default', 'member', NULL)")
    lists.check()
    delta = sent.of(AclDelta, "front")[0]
    assert delta.policy is not None
    assert delta.policy.tiers == {"member": None}
    assert {e.tier for e in delta.upserts} == {"member"}  # every entry now carries its tier


def test_a_change_too_large_for_a_delta_goes_out_as_a_snapshot_at_once(store):
    sent = Sent()
    lists = publisher(store, sent)
    lists.check()
    sent.clear()
    now = datetime.now(UTC).isoformat()
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO credentials (hash, hint, member_id, issued_at) VALUES (?, ?, 'm-asa', ?)",
            [(f"{n:064x}", f"{n:04x}"[-4:], now) for n in range(MAX_DELTA_ENTRIES + 1)],
        )
    lists.check()
    assert sent.of(AclDelta, "front") == []
    snapshot = sent.of(AclSnapshot, "front")
    assert [len(s.entries) for s in snapshot] == [MAX_DELTA_ENTRIES + 4]


def test_a_delta_applies_to_the_previous_snapshot_to_give_the_next(store):
    sent, clock = Sent(), Clock()
    lists = publisher(store, sent, clock)
    lists.check()
    before = entries_of(sent.of(AclSnapshot, "front")[0])
    members.change(store, "m-bjorn", MemberChange(status="suspended"), "test")
    cards.revoke(store, cards.find(store, member_id="m-asa")[0].id, "test")
    lists.check()
    clock.now += 5
    lists.check()
    delta = sent.of(AclDelta, "front")[0]
    for entry in delta.upserts:
        before[entry.credential] = (entry.member_id, entry.role, entry.status)
    for removed in delta.removes:
        del before[removed]
    assert before == entries_of(sent.of(AclSnapshot, "front")[-1])


def test_a_write_in_the_server_process_is_published_without_waiting_for_a_poll(tmp_path):
    with Store.in_folder(tmp_path) as store:
        seed(store)
        sent = Sent()
        lists = ListPublisher(store, sent, TOPICS, "UTC", poll_interval_s=60)
        lists.start()
        try:
            sent.clear()
            cards.revoke(store, cards.find(store, member_id="m-asa")[0].id, "test")
            deadline = time.monotonic() + 10
            while not sent.of(AclDelta, "front") and time.monotonic() < deadline:
                time.sleep(0.01)
            delta = sent.of(AclDelta, "front")  # before stop(), which makes a last pass
        finally:
            lists.stop()
        assert [d.removes for d in delta] == [(credential("m-asa"),)]


# --- guests and the passing of time -----------------------------------------------------------


def register_guest(store: Store, host: str = "m-asa") -> guests.GuestPass:
    data = build(guests.GuestIn, first_name="Erik", host_member_id=host, credential=GUEST_CARD)
    return guests.register(
        store, data, actor="test", source="kiosk", timezone="Europe/Stockholm", now=NOW
    )


def test_a_guest_pass_goes_out_as_a_guest_entry_and_leaves_when_cancelled(store):
    sent = Sent()
    lists = publisher(store, sent)
    lists.check()
    sent.clear()
    issued = register_guest(store)
    lists.check()
    [delta] = sent.of(AclDelta, "front")
    [entry] = delta.upserts
    assert (entry.credential, entry.member_id, entry.role, entry.host_member_id) == (
        GUEST_CARD, issued.id, "guest", "m-asa",
    )  # fmt: skip
    assert (entry.valid_from, entry.valid_until) == (issued.valid_from, issued.valid_until)
    assert len(sent.of(AclDelta, "glade")) == 1  # every door
    sent.clear()
    guests.cancel(store, issued.id, actor="test", now=NOW)
    lists.check()
    assert [d.removes for d in sent.of(AclDelta, "front")] == [(GUEST_CARD,)]


def test_lists_are_recomputed_every_refresh_so_an_ended_pass_leaves(store):
    issued = register_guest(store)
    sent, clock, now = Sent(), Clock(), [NOW]
    lists = publisher(store, sent, clock, now)
    lists.check()
    assert GUEST_CARD in entries_of(sent.of(AclSnapshot, "front")[0])
    sent.clear()
    now[0] = issued.valid_until  # midnight: the pass has ended; nothing in the store changed
    clock.now += lists.refresh_s - 1
    assert not lists.check()
    clock.now += 1
    assert lists.check()
    assert [d.removes for d in sent.of(AclDelta, "front")] == [(GUEST_CARD,)]


def test_a_refresh_that_finds_nothing_changed_sends_nothing(store):
    sent, clock = Sent(), Clock()
    lists = publisher(store, sent, clock)
    lists.check()
    sent.clear()
    clock.now += lists.refresh_s
    assert lists.check()
    assert lists.stats.passes == 2
    assert sent.messages == []
