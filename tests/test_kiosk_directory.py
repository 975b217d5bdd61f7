"""Kiosk directories: what a kiosk may know (first names only), and how changes reach it.

Stores are real SQLite files; a change "from another process" is made on a
second :class:`Store` opened on the same file, as a ``hubtap`` command does.
"""

import getpass
import json
import logging
import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub_server import audit, cards, guests, kiosks, members, organisations
from hub_server.errors import Conflict, Invalid, NotFound
from hub_server.kiosk_directory import DirectoryPublisher, compute
from hub_server.models import CardIn, KioskIn, MemberChange, MemberIn, OrganisationIn, build
from hub_server.store import Store, now_text
from hublink.credentials import credential_hash
from hublink.link import Link
from hublink.messages import KIOSK_DIRECTORY, DirectoryEntry, KioskDirectory, Message
from hublink.topics import Topics
from tests.conftest import SITE, mqtt_config
from tests.helpers.brokers import Mosquitto
from tests.helpers.collect import Collector
from tests.helpers.door_hardware import SITE_KEY
from tests.helpers.hub_data import ACTOR, credential, seed
from tests.helpers.hub_process import HUB_BIN, WAIT_S, HubProcess, fetch_retained
from tests.helpers.waiting import wait_until
from tests.test_hub_cli import Hub, rows

TOPICS = Topics("s")
CLI_ACTOR = f"cli:{getpass.getuser()}"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Sent:
    """A stand-in link: keeps each directory as a kiosk receives it, and the raw payload."""

    def __init__(self) -> None:
        self.published: list[tuple[str, KioskDirectory, bytes]] = []
        self.failures = 0
        """Raise on this many calls to ``publish`` before working."""
        self._lock = threading.Lock()

    def publish(self, topic: str, message: Message) -> bool:
        with self._lock:
            if self.failures:
                self.failures -= 1
                raise RuntimeError("the link broke")
            assert isinstance(message, KioskDirectory)
            payload = KIOSK_DIRECTORY.encode(message)
            self.published.append((topic, KIOSK_DIRECTORY.decode(payload), payload))
            return True

    def of(self, kiosk_id: str) -> list[KioskDirectory]:
        with self._lock:
            return [m for _, m, _ in self.published if m.kiosk_id == kiosk_id]

    def payloads(self) -> list[bytes]:
        with self._lock:
            return [p for _, _, p in self.published]

    def clear(self) -> None:
        with self._lock:
            self.published.clear()


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def names(directory: KioskDirectory) -> dict[str, str]:
    return {e.member_id: e.first_name for e in directory.entries}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The seeded hub (Åsa, Björn, Sigrid with a card each) and kiosk ``entrance``."""
    with Store.in_folder(tmp_path) as store:
        seed(store)
        kiosks.add(store, build(KioskIn, id="entrance", name="Entrance"), ACTOR)
        yield store


def publisher(store: Store, sent: Sent, poll_interval_s: float = 0.05) -> DirectoryPublisher:
    """A publisher whose time stands still: ``NOW``, and no refresh falls due by itself."""
    return DirectoryPublisher(
        store, sent, TOPICS, poll_interval_s=poll_interval_s, monotonic=Ticks(), clock=lambda: NOW
    )


def add_member(store: Store, member_id: str, uid: str, **fields: object) -> None:
    values: dict[str, object] = {"first_name": member_id.title(), "last_name": "Zed"} | fields
    members.add(store, build(MemberIn, id=member_id, **values), ACTOR)
    cards.add(store, SITE_KEY, build(CardIn, member_id=member_id, uid=uid), ACTOR)


def card_hash(uid: str) -> str:
    return credential_hash(SITE_KEY, bytes.fromhex(uid))


# --- what a directory holds ---------------------------------------------------------------


def test_a_directory_holds_active_cards_of_members_valid_now_with_first_names_only(store):
    organisations.add(store, build(OrganisationIn, name="Skogsbyrån AB", id="o-skog"), ACTOR)
    add_member(
        store,
        "m-ingrid",
        "11111111",
        first_name="Ingrid",
        last_name="Lindqvist",
        email="ingrid@skogsbyran.se",
        organisation="o-skog",
    )
    add_member(
        store,
        "m-open",
        "22222222",
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=1),
    )
    add_member(store, "m-starts", "33333333", valid_from=NOW)  # begins exactly now: in
    add_member(store, "m-later", "44444444", valid_from=NOW + timedelta(seconds=1))
    add_member(store, "m-ended", "55555555", valid_until=NOW)  # ends exactly now: out
    add_member(store, "m-gone", "66666666", valid_until=NOW - timedelta(days=3))
    members.change(store, "m-bjorn", MemberChange(status="suspended"), ACTOR)
    members.deactivate(store, "m-sigrid", ACTOR)
    cards.add(store, SITE_KEY, build(CardIn, member_id="m-ingrid", uid="77777777"), ACTOR)
    revoked = cards.add(store, SITE_KEY, build(CardIn, member_id="m-asa", uid="88888888"), ACTOR)
    cards.revoke(store, revoked.id, ACTOR)

    sent = Sent()
    publisher(store, sent).publish_all()
    [directory] = sent.of("entrance")

    expected = {
        credential("m-asa"): ("m-asa", "Åsa"),
        card_hash("11111111"): ("m-ingrid", "Ingrid"),
        card_hash("77777777"): ("m-ingrid", "Ingrid"),  # both of her active cards
        card_hash("22222222"): ("m-open", "M-Open"),
        card_hash("33333333"): ("m-starts", "M-Starts"),
    }
    assert {e.credential: (e.member_id, e.first_name) for e in directory.entries} == expected
    assert [e.credential for e in directory.entries] == sorted(expected)  # a stable order
    assert all(e.host_first_name is None for e in directory.entries)
    assert (directory.kiosk_id, directory.version) == ("entrance", 1)
    payload = sent.payloads()[0].decode()
    for private in (
        "Lindqvist",
        "Zed",
        "Test",
        "ingrid@skogsbyran.se",
        "Skogsbyrån",
        "o-skog",
        "last_name",
        "email",
        "organisation",
    ):
        assert private not in payload
    assert compute(store, NOW) == directory.entries


def test_a_first_name_longer_than_the_contract_allows_is_cut_to_40_characters(store):
    long_name = "Anna-Karin Maria Elisabeth Kristina Sofia Ulrika"  # 48 characters
    add_member(store, "m-long", "12121212", first_name=long_name)
    entry = next(e for e in compute(store, NOW) if e.member_id == "m-long")
    assert entry.first_name == long_name[:40]


def add_guest(store: Store, host: str, uid: str | None, first_name: str = "Erik", **values: object):
    """A guest of ``host`` registered at ``NOW`` (in Stockholm) with the card ``uid``."""
    now = values.pop("now", NOW)
    data = build(
        guests.GuestIn,
        first_name=first_name,
        host_member_id=host,
        credential=card_hash(uid) if uid else None,
        **values,
    )
    return guests.register(
        store, data, actor=ACTOR, source="kiosk", timezone="Europe/Stockholm", now=now
    )


def test_a_guests_running_pass_is_greeted_with_the_guests_and_the_hosts_first_names(store):
    members.change(store, "m-bjorn", build(MemberChange, last_name="Lindqvist"), ACTOR)
    erik = add_guest(store, "m-bjorn", "0A0A0A0A")
    add_guest(store, "m-bjorn", None, "Nocard")
    cancelled = add_guest(store, "m-asa", "0B0B0B0B", "Gone")
    guests.cancel(store, cancelled.id, actor=ACTOR, now=NOW)
    add_guest(store, "m-asa", "0C0C0C0C", "Later", day=(NOW + timedelta(days=1)).date())
    add_guest(store, "m-asa", "0D0D0D0D", "Early", now=NOW - timedelta(days=1))  # yesterday's
    add_guest(store, "m-sigrid", "0E0E0E0E", "Sus")
    members.change(store, "m-sigrid", MemberChange(status="suspended"), ACTOR)

    sent = Sent()
    publisher(store, sent).publish_all()
    [directory] = sent.of("entrance")
    found = {e.credential: e for e in directory.entries}
    assert found[card_hash("0A0A0A0A")] == DirectoryEntry(
        credential=card_hash("0A0A0A0A"),
        member_id=erik.id,
        first_name="Erik",
        host_first_name="Björn",
    )
    assert {e.member_id for e in directory.entries} == {"m-asa", "m-bjorn", erik.id}
    assert [e.credential for e in directory.entries] == sorted(found)
    assert found[credential("m-bjorn")].host_first_name is None
    payload = sent.payloads()[0].decode()
    assert "Lindqvist" not in payload
    assert "Test" not in payload
    [raw] = [e for e in json.loads(payload)["entries"] if e["member_id"] == erik.id]
    assert raw == {
        "credential": card_hash("0A0A0A0A"),
        "member_id": erik.id,
        "first_name": "Erik",
        "host_first_name": "Björn",
    }  # nothing more: no surname, no host id


def test_an_ended_pass_leaves_the_directory_with_the_next_refresh(store):
    erik = add_guest(store, "m-asa", "0A0A0A0A")
    now = [NOW]
    sent, ticks = Sent(), Ticks()
    directories = DirectoryPublisher(
        store, sent, TOPICS, refresh_s=60, monotonic=ticks, clock=lambda: now[0]
    )
    directories.publish_all(force=True)
    assert names(sent.of("entrance")[-1])[erik.id] == "Erik"

    now[0] = erik.valid_until  # midnight in Stockholm; nothing in the store changes
    ticks.now += 60
    assert directories.check()
    latest = sent.of("entrance")[-1]
    assert (latest.version, erik.id in names(latest)) == (2, False)


def test_registering_and_cancelling_a_guest_bumps_the_directory_counter(store):
    before = store.counter("directory")
    erik = add_guest(store, "m-asa", "0A0A0A0A")
    assert store.counter("directory") == before + 1
    guests.cancel(store, erik.id, actor=ACTOR, now=NOW)
    assert store.counter("directory") == before + 2


def test_only_changes_a_kiosk_shows_bump_the_directory_counter(store):
    def bumps(sql: str, params: tuple[object, ...] = ()) -> int:
        before = store.counter("directory")
        with store.write() as db:
            db.execute(sql, params)
        return store.counter("directory") - before

    assert bumps("UPDATE members SET first_name = 'Åse' WHERE id = 'm-asa'") == 1
    assert bumps("UPDATE members SET valid_until = ? WHERE id = 'm-asa'", (now_text(NOW),)) == 1
    assert bumps("UPDATE members SET status = 'suspended' WHERE id = 'm-asa'") == 1
    assert bumps("UPDATE members SET last_name = 'X', email = 'x@y.se' WHERE id = 'm-asa'") == 0
    assert bumps("UPDATE credentials SET label = 'blue' WHERE member_id = 'm-asa'") == 0
    assert bumps("UPDATE credentials SET status = 'revoked' WHERE member_id = 'm-asa'") == 1
    assert bumps("INSERT INTO kiosks VALUES ('lobby', 'Lobby', 'x')") == 1
    assert bumps("UPDATE kiosks SET name = 'Hall' WHERE id = 'lobby'") == 0
    assert bumps("DELETE FROM kiosks WHERE id = 'lobby'") == 1


# --- versions -----------------------------------------------------------------------------


def test_the_version_rises_only_when_the_content_changes_and_survives_a_restart(tmp_path, store):
    sent = Sent()
    directories = publisher(store, sent)
    assert directories.publish_all(force=True) == 1
    assert [d.version for d in sent.of("entrance")] == [1]

    sent.clear()
    members.change(store, "m-asa", build(MemberChange, last_name="Öberg"), ACTOR)  # not shown
    assert not directories.check()  # the counter did not move: nothing computed
    assert directories.publish_all() == 0  # computed anyway: the same content, nothing sent
    assert sent.published == []

    members.change(store, "m-asa", build(MemberChange, first_name="Åse"), ACTOR)
    assert directories.check()
    [changed] = sent.of("entrance")
    assert (changed.version, names(changed)["m-asa"]) == (2, "Åse")
    row = store.query_one("SELECT version, entries FROM kiosk_directories")
    assert tuple(row) == (2, 3)
    store.close()

    with Store.in_folder(tmp_path) as reopened:  # the hub restarts
        again = Sent()
        publisher(reopened, again).publish_all(force=True)
        assert [(d.version, names(d)["m-asa"]) for d in again.of("entrance")] == [(2, "Åse")]
        cards.revoke(reopened, cards.find(reopened, member_id="m-bjorn")[0].id, ACTOR)
        third = Sent()
        publisher(reopened, third).publish_all(force=True)
        assert [(d.version, "m-bjorn" in names(d)) for d in third.of("entrance")] == [(3, False)]


def test_the_version_is_recorded_before_the_directory_is_sent(store):
    recorded: list[int] = []

    class Checking(Sent):
        def publish(self, topic: str, message: Message) -> bool:
            row = store.query_one(
                "SELECT version FROM kiosk_directories WHERE kiosk_id = ?", ("entrance",)
            )
            recorded.append(row["version"])
            return super().publish(topic, message)

    sent = Checking()
    publisher(store, sent).publish_all()
    assert recorded == [1] == [d.version for d in sent.of("entrance")]


def test_a_window_opening_shows_with_the_next_refresh(store):
    add_member(store, "m-later", "44444444", valid_from=NOW + timedelta(minutes=30))
    now = [NOW]
    sent, ticks = Sent(), Ticks()
    directories = DirectoryPublisher(
        store, sent, TOPICS, refresh_s=60, monotonic=ticks, clock=lambda: now[0]
    )
    directories.publish_all(force=True)
    assert "m-later" not in names(sent.of("entrance")[-1])

    now[0] = NOW + timedelta(minutes=31)  # the window opens; nothing in the store changes
    ticks.now += 59
    assert not directories.check()
    ticks.now += 1  # a refresh is due
    assert directories.check()
    latest = sent.of("entrance")[-1]
    assert (latest.version, names(latest)["m-later"]) == (2, "M-Later")


# --- changes from another process ---------------------------------------------------------


def test_a_change_committed_from_another_connection_is_published_by_the_next_poll(tmp_path, store):
    sent = Sent()
    directories = publisher(store, sent)
    directories.publish_all(force=True)
    with Store.in_folder(tmp_path) as other:  # a hubtap command beside the server

        def one_poll() -> KioskDirectory:
            sent.clear()
            assert directories.check()
            [directory] = sent.of("entrance")
            return directory

        members.change(other, "m-bjorn", build(MemberChange, first_name="Bjarne"), ACTOR)
        renamed = one_poll()
        assert (renamed.version, names(renamed)["m-bjorn"]) == (2, "Bjarne")

        cards.revoke(other, cards.find(other, member_id="m-asa")[0].id, ACTOR)
        revoked = one_poll()
        assert revoked.version == 3
        assert credential("m-asa") not in {e.credential for e in revoked.entries}

        cards.add(other, SITE_KEY, build(CardIn, member_id="m-asa", uid="0D0E0F10"), ACTOR)
        new_card = one_poll()
        assert new_card.version == 4
        assert {e.credential: e.member_id for e in new_card.entries}[card_hash("0D0E0F10")] == (
            "m-asa"
        )
    assert not directories.check()  # nothing more


def test_the_running_thread_picks_up_another_processs_change_by_polling(tmp_path, store):
    sent = Sent()
    directories = publisher(store, sent, poll_interval_s=0.02)
    directories.start()
    try:
        with Store.in_folder(tmp_path) as other:
            members.change(other, "m-sigrid", build(MemberChange, first_name="Siri"), ACTOR)
        assert wait_until(
            lambda: any(names(d).get("m-sigrid") == "Siri" for d in sent.of("entrance")), WAIT_S
        )
    finally:
        directories.stop()
    directories.stop()  # safe twice
    assert [d.version for d in sent.of("entrance")] == [1, 2]


def test_a_write_in_the_server_process_is_published_without_waiting_for_a_poll(store):
    sent = Sent()
    directories = publisher(store, sent, poll_interval_s=60)
    directories.start()
    try:
        members.change(store, "m-asa", build(MemberChange, first_name="Åse"), ACTOR)
        assert wait_until(lambda: len(sent.of("entrance")) == 2, WAIT_S)  # long before 60 s
    finally:
        directories.stop()
    assert names(sent.of("entrance")[-1])["m-asa"] == "Åse"


# --- registering and removing kiosks ------------------------------------------------------


def test_a_removed_kiosk_gets_an_empty_directory_and_its_record_goes(store):
    kiosks.add(store, build(KioskIn, id="lobby", name="Lobby"), ACTOR)
    sent = Sent()
    directories = publisher(store, sent)
    directories.publish_all(force=True)
    assert {d.kiosk_id for _, d, _ in sent.published} == {"entrance", "lobby"}

    sent.clear()
    kiosks.remove(store, "lobby", ACTOR)
    assert directories.check()
    [last] = sent.of("lobby")
    assert (last.version, last.entries) == (2, ())
    assert sent.of("entrance") == []  # unchanged: not sent again
    assert [r[0] for r in store.query("SELECT kiosk_id FROM kiosk_directories")] == ["entrance"]
    assert [e.action for e in audit.entries(store, limit=1)] == ["kiosk.remove"]

    sent.clear()
    assert directories.publish_all() == 0  # forgotten: nothing more for it


def test_kiosks_add_get_and_remove_refuse_duplicates_and_unknown_ids(store):
    with pytest.raises(Conflict, match="a kiosk with id entrance exists"):
        kiosks.add(store, build(KioskIn, id="entrance", name="Again"), ACTOR)
    with pytest.raises(NotFound, match="no kiosk 'nowhere'"):
        kiosks.get(store, "nowhere")
    with pytest.raises(NotFound, match="no kiosk 'nowhere'"):
        kiosks.remove(store, "nowhere", ACTOR)
    with pytest.raises(Invalid, match=r"^id: "):
        build(KioskIn, id="not/an id", name="Bad")
    assert [k.id for k in kiosks.all_kiosks(store)] == ["entrance"]


# --- size and failures --------------------------------------------------------------------


def bulk_members(store: Store, count: int, first_name: str) -> None:
    """``count`` members with one card each, written in one transaction."""
    now = now_text(NOW)
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO members (id, first_name, last_name, created_at, updated_at)"
            " VALUES (?, ?, 'Bulk', ?, ?)",
            [(f"m-{n:012x}", first_name, now, now) for n in range(count)],
        )
        db.conn.executemany(
            "INSERT INTO credentials (hash, hint, member_id, issued_at) VALUES (?, ?, ?, ?)",
            [(f"{n + 1:064x}", f"{n:04x}"[-4:], f"m-{n:012x}", now) for n in range(count)],
        )


def test_10000_members_with_long_first_names_fit_under_the_directory_limit(store):
    bulk_members(store, 10_000, "Å" * 40)  # 80 bytes of UTF-8 each: well above the usual
    sent = Sent()
    publisher(store, sent).publish_all()
    [directory] = sent.of("entrance")
    assert len(directory.entries) == 10_000 + 3
    size = len(sent.payloads()[0])
    assert size < KIOSK_DIRECTORY.max_bytes * 0.6, size  # about 2.2 MiB of the 4 MiB


def test_a_directory_over_the_limit_is_logged_not_sent_and_the_thread_goes_on(
    tmp_path, store, caplog
):
    bulk_members(store, 16_000, "😀" * 40)  # 160 bytes each: about 4.7 MiB in all
    sent = Sent()
    directories = publisher(store, sent, poll_interval_s=0.02)
    with caplog.at_level(logging.ERROR, "hub_server.kiosk_directory"):
        directories.start()
    try:
        assert sent.published == []
        assert store.query("SELECT * FROM kiosk_directories") == []  # no version spent on it
        assert directories.stats.refused == 1
        [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert "kiosk entrance: directory of 16003 entries not published" in error.getMessage()
        assert "over the limit" in error.getMessage()

        with Store.in_folder(tmp_path) as other, other.write() as db:  # the bulk goes again
            db.execute("DELETE FROM credentials WHERE member_id LIKE 'm-0%'")
        assert wait_until(lambda: sent.of("entrance"), WAIT_S)
        assert [(d.version, len(d.entries)) for d in sent.of("entrance")] == [(1, 3)]
    finally:
        directories.stop()


def test_a_failing_publish_is_logged_and_tried_again_without_killing_the_thread(
    tmp_path, store, caplog
):
    sent = Sent()
    sent.failures = 1
    directories = DirectoryPublisher(store, sent, TOPICS, poll_interval_s=0.02)
    with caplog.at_level(logging.ERROR, "hub_server.kiosk_directory"):
        directories.start()  # the first publish raises
    try:
        assert "could not publish the directory of kiosk entrance" in caplog.text
        assert directories.stats.failed == 1
        # Retried within RETRY_S, with no change in the store, under the version recorded.
        assert wait_until(lambda: sent.of("entrance"), WAIT_S)
        assert [d.version for d in sent.of("entrance")] == [1]
        sent.failures = 1
        with Store.in_folder(tmp_path) as other:
            members.change(other, "m-asa", build(MemberChange, first_name="Åse"), ACTOR)
        assert wait_until(lambda: len(sent.of("entrance")) == 2, WAIT_S)
        assert [(d.version, names(d)["m-asa"]) for d in sent.of("entrance")] == [
            (1, "Åsa"),
            (2, "Åse"),
        ]
        assert directories.stats.failed == 2
        assert directories._thread is not None
        assert directories._thread.is_alive()
    finally:
        directories.stop()


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def hub(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> Hub:
    for name in list(os.environ):
        if name.startswith("HUBTAP_"):
            monkeypatch.delenv(name)
    return Hub(tmp_path, capsys)


def test_kiosks_add_list_and_remove_on_the_command_line(hub):
    assert hub.ok("kiosks", "add", "entrance", "--name", "Entrance kiosk") == (
        "kiosk entrance (Entrance kiosk) added; it gets its directory from the running server\n"
    )
    hub.ok("kiosks", "add", "lobby", "--name", "Lobby")
    with hub.store() as store:
        members.add(store, build(MemberIn, id="m-asa", first_name="Åsa", last_name="Ö"), ACTOR)
        cards.add(store, SITE_KEY, build(CardIn, member_id="m-asa", uid="04A1B2C3"), ACTOR)
        publisher(store, Sent()).publish_all()
    assert rows(hub.ok("kiosks", "list")) == [
        ["ID", "NAME", "DIRECTORY", "ENTRIES"],
        ["entrance", "Entrance kiosk", "1", "1"],
        ["lobby", "Lobby", "1", "1"],
    ]
    taken = hub("kiosks", "add", "lobby", "--name", "Again")
    assert (taken.status, taken.err) == (1, "hubtap: a kiosk with id lobby exists\n")
    bad = hub("kiosks", "add", "no good", "--name", "X")
    assert (bad.status, bad.err.startswith("hubtap: id: ")) == (1, True)
    assert hub.ok("kiosks", "remove", "lobby") == (
        "kiosk lobby removed; the running server sends it an empty directory\n"
    )
    unknown = hub("kiosks", "remove", "lobby")
    assert (unknown.status, unknown.err) == (1, "hubtap: no kiosk 'lobby'\n")
    assert rows(hub.ok("kiosks", "list"))[1:] == [["entrance", "Entrance kiosk", "1", "1"]]
    with hub.store() as store:
        kiosk_actions = [e for e in audit.entries(store) if e.action.startswith("kiosk.")]
        assert [(e.action, e.target, e.actor) for e in reversed(kiosk_actions)] == [
            ("kiosk.add", "entrance", CLI_ACTOR),
            ("kiosk.add", "lobby", CLI_ACTOR),
            ("kiosk.remove", "lobby", CLI_ACTOR),
        ]


# --- end to end ---------------------------------------------------------------------------


def hubtap(hub: HubProcess, *args: str) -> str:
    """Run a ``hubtap`` admin command as its own process beside the server, as an operator does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBTAP_")}
    done = subprocess.run(
        [str(HUB_BIN), *args, "--config", str(hub.config_path)],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done
    return done.stdout


@pytest.mark.mosquitto
def test_a_kiosk_gets_its_retained_directory_and_cli_changes_reach_it(
    mosquitto: Mosquitto, tmp_path: Path
):
    topics = Topics(SITE)
    hub = HubProcess(tmp_path / "hub", broker_port=mosquitto.port)
    seen = Collector()
    kiosk = Link(mqtt_config(mosquitto.port), topics, client_id="test-kiosk-entrance")
    kiosk.subscribe(topics.kiosk_directory("entrance"), seen)
    try:
        seed(hub.store)
        kiosks.add(hub.store, build(KioskIn, id="entrance", name="Entrance"), ACTOR)
        hub.start(WAIT_S)
        first: KioskDirectory = fetch_retained(
            mosquitto.port, topics, topics.kiosk_directory("entrance")
        )
        assert (first.version, names(first)) == (
            1,
            {"m-asa": "Åsa", "m-bjorn": "Björn", "m-sigrid": "Sigrid"},
        )

        kiosk.start()  # subscribes as the kiosk would: the retained directory comes first
        assert seen.wait_until(bool, WAIT_S)
        assert (seen.items[0].retained, seen.messages[0].id) == (True, first.id)

        [card] = cards.find(hub.store, member_id="m-asa")
        assert hubtap(hub, "cards", "revoke", str(card.id)).startswith("card ")
        assert seen.wait_until(lambda items: items[-1].message.version == 2, WAIT_S), hub.log_tail()
        assert "m-asa" not in names(seen.messages[-1])

        hubtap(hub, "members", "deactivate", "m-bjorn")
        assert seen.wait_until(lambda items: items[-1].message.version == 3, WAIT_S)
        assert names(seen.messages[-1]) == {"m-sigrid": "Sigrid"}

        hubtap(hub, "kiosks", "remove", "entrance")
        assert seen.wait_until(lambda items: items[-1].message.version == 4, WAIT_S)
        assert seen.messages[-1].entries == ()
        retained: KioskDirectory = fetch_retained(
            mosquitto.port, topics, topics.kiosk_directory("entrance")
        )
        assert (retained.version, retained.entries) == (4, ())
        hub.stop()  # a clean exit on SIGTERM, no traceback logged
    finally:
        kiosk.stop()
        hub.close()
