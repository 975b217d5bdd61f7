"""The kiosk against the real thing: Mosquitto, ``hubtap server``, ``hubtap-door`` on the card
emulator, and ``hubtap-kiosk`` drawing offscreen."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hardware.emulator import CardEmulator
from hub_server import events, kiosks, places
from hub_server.demo import free_port
from hub_server.events import EventIn
from hub_server.models import KioskIn, RoomIn
from hublink.link import Link
from hublink.messages import KIOSK_DIRECTORY, utcnow
from hublink.outbox import Outbox
from kiosk import bus
from kiosk.cache import Cache
from kiosk.config import KioskConfig
from kiosk.model import KioskModel
from kiosk.service import build_model
from kiosk.views import AnswerView
from tests.conftest import SITE, mqtt_config
from tests.helpers.door_hardware import udp_reader_toml
from tests.helpers.hub_data import ACTOR, UIDS, build
from tests.helpers.hub_site import Site, hashed, running_site
from tests.helpers.kiosk_process import KioskProcess
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.mosquitto

WAIT_S = 15.0
GREETING_S = 1.0
"""The issue's bound: the badge is on screen within a second of the tap."""


def register_kiosk(site: Site, kiosk_id: str = "entrance") -> None:
    kiosks.add(site.store, build(KioskIn, id=kiosk_id, name="Entrance"), ACTOR)


def directory_names(process: KioskProcess) -> set[str]:
    payload = process.cached("directory")
    if payload is None:
        return set()
    return {e.first_name for e in KIOSK_DIRECTORY.decode(payload).entries}


def drawn_at(screen: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(screen["drawn_at"]))


def test_a_tap_at_the_door_greets_on_the_kiosk_and_the_cache_carries_it_through_an_outage(
    mosquitto, tmp_path
):
    with running_site(mosquitto, tmp_path) as site:
        register_kiosk(site)
        door = site.start_door("front")
        (tmp_path / "kiosk").mkdir()
        kiosk = KioskProcess(tmp_path / "kiosk", broker_port=mosquitto.port)
        try:
            kiosk.start()
            kiosk.wait_screen(
                lambda s: s["kind"] == "idle" and s["zones"] and not s["offline_text"],
                WAIT_S,
                "the idle screen with the zones, online",
            )
            assert wait_until(lambda: {"Åsa", "Björn"} <= directory_names(kiosk), WAIT_S), (
                "the hub's directory did not reach the kiosk"
            )
            assert "Test" not in (kiosk.cached("directory") or b"").decode()  # no surnames

            event = door.tap(UIDS["m-asa"])
            assert event.granted
            badge = kiosk.wait_screen(
                lambda s: s.get("greeting") == "Hej, Åsa!", WAIT_S, "Åsa's badge"
            )
            latency = (drawn_at(badge) - event.ts).total_seconds()
            assert latency < GREETING_S, f"the badge took {latency:.3f} s"
            assert (kiosk.shots / "badge.png").stat().st_size > 1000

            # back to idle after badge_s; Åsa now counts in the campfire circle
            kiosk.wait_screen(
                lambda s: (
                    s["kind"] == "idle"
                    and any(
                        z["name"] == "Campfire circle" and z["count_text"].startswith("1 /")
                        for z in s["zones"]
                    )
                ),
                WAIT_S,
                "idle again, with Åsa counted",
            )

            # the hub goes away: offline, and greeting still works from the kiosk's own data
            site.hub.stop()
            kiosk.wait_screen(
                lambda s: s["kind"] == "idle" and s["offline_text"], WAIT_S, "the offline banner"
            )
            door.tap(UIDS["m-bjorn"])
            offline_badge = kiosk.wait_screen(
                lambda s: s.get("greeting") == "Hej, Björn!",
                WAIT_S,
                "Björn's badge with the hub down",
            )
            assert offline_badge["offline_text"]

            # and across a restart of the kiosk itself, from its cache file
            assert kiosk.stop() == 0
            kiosk.shots.joinpath("screen.json").unlink()
            kiosk.start()
            kiosk.wait_screen(
                lambda s: s["kind"] == "idle" and s["offline_text"] and s["zones"],
                WAIT_S,
                "the cached zones, offline, after a restart",
            )
            door.tap(UIDS["m-asa"])
            kiosk.wait_screen(
                lambda s: s.get("greeting") == "Hej, Åsa!",
                WAIT_S,
                "Åsa greeted from the cache after a restart",
            )
            assert kiosk.stop() == 0
            assert "Traceback" not in kiosk.log_text()
        finally:
            kiosk.close()


def test_a_refused_tap_names_nobody_on_the_kiosk(mosquitto, tmp_path):
    with running_site(mosquitto, tmp_path) as site:
        register_kiosk(site)
        door = site.start_door("front")
        (tmp_path / "kiosk").mkdir()
        with KioskProcess(tmp_path / "kiosk", broker_port=mosquitto.port) as kiosk:
            kiosk.wait_screen(lambda s: s["kind"] == "idle", WAIT_S, "the idle screen")
            event = door.tap("04DEADBEEF0001")
            assert not event.granted
            denied = kiosk.wait_screen(lambda s: s["kind"] == "denied", WAIT_S, "a refusal")
            assert denied["message"] == "We don't know this card — please ask a host."
            assert (kiosk.shots / "denied.png").exists()
            kiosk.stop()


def test_the_kiosks_own_reader_greets_through_the_real_nfc_stack_in_swedish(mosquitto, tmp_path):
    """A kiosk that follows no door and has its own reader: nfcpy's UDP driver, the emulator."""
    with running_site(mosquitto, tmp_path) as site:
        register_kiosk(site)
        reader_port = free_port(kind=socket.SOCK_DGRAM)
        (tmp_path / "kiosk").mkdir()
        kiosk = KioskProcess(
            tmp_path / "kiosk",
            broker_port=mosquitto.port,
            door_id=None,
            language="sv",
            reader=udp_reader_toml(reader_port, 0.3),
        )
        with kiosk:
            kiosk.wait_screen(lambda s: s["kind"] == "idle", WAIT_S, "the idle screen")
            assert wait_until(lambda: "Björn" in directory_names(kiosk), WAIT_S)
            emulator = CardEmulator(port=reader_port)
            with emulator.holding(UIDS["m-bjorn"]):
                kiosk.wait_screen(
                    lambda s: s.get("greeting") == "Hej, Björn!",
                    WAIT_S,
                    "Björn greeted at the kiosk's own reader",
                )
            with emulator.holding("04DEADBEEF0002"):
                denied = kiosk.wait_screen(lambda s: s["kind"] == "denied", WAIT_S, "a refusal")
            assert denied["message"] == "Vi känner inte igen kortet — fråga en värd."
            assert kiosk.stop() == 0


def test_check_out_at_the_kiosk_reaches_the_hub_and_comes_back(mosquitto, tmp_path):
    """The model, its link and outbox as the kiosk runs them, against the real hub."""
    with running_site(mosquitto, tmp_path) as site:
        register_kiosk(site)
        door = site.start_door("front")
        door.tap(UIDS["m-asa"])
        site.wait_open_session("m-asa")
        config = KioskConfig.model_validate(
            {
                "site": {"id": SITE},
                "data_dir": str(tmp_path / "k"),
                "kiosk": {"id": "entrance", "door_id": "front"},
            }
        )
        changed = threading.Event()
        with Cache(tmp_path / "k.sqlite3") as cache, Outbox(tmp_path / "outbox.sqlite3") as outbox:
            link = Link(
                mqtt_config(mosquitto.port), site.topics, client_id="kiosk-entrance", outbox=outbox
            )
            model, feeds = build_model(config, cache, bus.LinkSender(link, "entrance"))
            model.add_listener(changed.set)
            bus.attach(link, "entrance", "front", feeds, model, tap_max_age_s=10, clock=utcnow)
            with link:
                assert link.wait_connected(WAIT_S)
                feeds.link_status(True)
                assert wait_until(lambda: feeds.online and feeds.who(_hash("m-asa")), WAIT_S)
                door.tap(UIDS["m-asa"])  # a second tap: the kiosk follows the door
                assert wait_until(lambda: model.screen == "badge", WAIT_S)
                model.press("checkout")
                assert wait_until(lambda: model.view().state == "done", WAIT_S), model.view()
                view = model.view()
                assert isinstance(view, AnswerView)
                assert view.message == "You are checked out. See you soon, Åsa!"
        assert wait_until(lambda: not _present(site, "m-asa"), WAIT_S)


@contextmanager
def kiosk_model(site: Site, port: int, workdir: Path, kiosk_id: str) -> Iterator[KioskModel]:
    """A kiosk's model, link and outbox as ``hubtap-kiosk`` runs them, following the front door."""
    workdir.mkdir()
    config = KioskConfig.model_validate(
        {
            "site": {"id": SITE},
            "data_dir": str(workdir),
            "kiosk": {"id": kiosk_id, "door_id": "front", "timezone": "UTC"},
        }
    )
    with Cache(workdir / "k.sqlite3") as cache, Outbox(workdir / "outbox.sqlite3") as outbox:
        link = Link(mqtt_config(port), site.topics, client_id=f"kiosk-{kiosk_id}", outbox=outbox)
        model, feeds = build_model(config, cache, bus.LinkSender(link, kiosk_id))
        bus.attach(link, kiosk_id, "front", feeds, model, tap_max_age_s=10, clock=utcnow)
        with link:
            assert link.wait_connected(WAIT_S)
            feeds.link_status(True)
            assert wait_until(lambda: feeds.online and feeds.who(_hash("m-asa")), WAIT_S)
            yield model


def test_a_signup_and_a_booking_at_one_kiosk_show_on_every_kiosk(mosquitto, tmp_path):
    with running_site(mosquitto, tmp_path) as site:
        register_kiosk(site, "entrance")
        register_kiosk(site, "lounge")
        places.add_room(site.store, build(RoomIn, id="fjall", name="Fjäll", zone_id="glade",
                                          capacity=6), ACTOR)  # fmt: skip
        start = utcnow() + timedelta(hours=2)
        event = events.add(site.store, build(EventIn, title="Forest yoga", host_member_id="m-bjorn",
                                             zone_id="glade", starts_at=start, ends_at=start
                                             + timedelta(hours=1), capacity=3), actor=ACTOR,
                           now=utcnow())  # fmt: skip
        door = site.start_door("front")
        with (
            kiosk_model(site, mosquitto.port, tmp_path / "a", "entrance") as here,
            kiosk_model(site, mosquitto.port, tmp_path / "b", "lounge") as there,
        ):

            def seats(model: KioskModel) -> tuple[int, int] | None:
                found = model.feeds.snapshot().events
                mine = [e for e in (found.events if found else ()) if e.event_id == event.id]
                return (mine[0].taken, mine[0].capacity) if mine else None

            assert wait_until(lambda: seats(here) == seats(there) == (0, 3), WAIT_S)
            door.tap(UIDS["m-asa"])
            assert wait_until(lambda: here.screen == "badge", WAIT_S)
            for button in ("signup", f"event:{event.id}", "confirm"):
                here.press(button)
            assert wait_until(lambda: here.view().state == "done", WAIT_S), here.view()
            assert here.view().message == "You are signed up for Forest yoga."
            assert wait_until(lambda: seats(here) == seats(there) == (1, 3), WAIT_S)

            here.press("more")  # back to the badge: her plans now hold the sign-up
            assert wait_until(lambda: any("Forest yoga" in line for line in here.view().agenda),
                              WAIT_S), here.view()  # fmt: skip
            for button in ("booking", "room:fjall", "hours:1", "confirm"):
                here.press(button)
            assert wait_until(lambda: here.view().state == "done", WAIT_S), here.view()

            def booked(model: KioskModel) -> bool:
                occupancy = model.feeds.snapshot().occupancy
                rooms = occupancy.rooms if occupancy else ()
                return any(r.room_id == "fjall" and r.booked_until for r in rooms)

            assert wait_until(lambda: booked(here) and booked(there), WAIT_S)
    row = site.store.query_one("SELECT member_id, source FROM bookings WHERE room_id = 'fjall'")
    assert tuple(row) == ("m-asa", "kiosk")


def _hash(member_id: str) -> str:
    return hashed(UIDS[member_id])


def _present(site: Site, member_id: str) -> bool:
    return any(s["ended_at"] is None for s in site.sessions(member_id))
