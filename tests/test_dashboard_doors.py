"""The dashboard's doors: state, remote unlock, lockdown and hold-open hours."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from hub_server import audit, doors, presence
from hub_server.errors import Invalid, NotFound
from hub_server.ingest import Inbound, Ingest
from hub_server.store import Store
from hublink.messages import CommandResult, DoorCommand, DoorState, Message, ScheduleSpec
from hublink.topics import Topics
from tests.helpers.dashboard import config, signed_in, site_for
from tests.helpers.hub_data import seed

ACTOR = "web:operator"


class FakeBus:
    """The server's MQTT link as the services see it: records what is published."""

    def __init__(self, *, connected: bool = True) -> None:
        self.topics = Topics("testsite")
        self.sent: list[tuple[str, Message]] = []
        self.connected = connected

    def publish(self, topic: str, message: Message) -> bool:
        if self.connected:
            self.sent.append((topic, message))
        return self.connected


@pytest.fixture
def store():
    with Store.memory() as store:
        yield seed(store)


@pytest.fixture
def bus():
    return FakeBus()


@pytest.fixture
def operator(store, bus):
    return signed_in(store, site_for(store, bus=bus))


def commands_sent(store: Store) -> list[tuple[str, str, str]]:
    rows = store.query("SELECT door_id, action, issued_by FROM door_commands ORDER BY door_id")
    return [(row["door_id"], row["action"], row["issued_by"]) for row in rows]


def audit_actions(store: Store, prefix: str) -> list[tuple[str, str, str]]:
    return [
        (e.actor, e.action, e.target) for e in audit.entries(store) if e.action.startswith(prefix)
    ]


def report_state(store: Store, door_id: str, **state: object) -> None:
    ingest = Ingest(store, presence.rules_from(config()))
    when = datetime.now(UTC)
    ingest.process(
        [
            Inbound("door", door_id, DoorState(ts=when, **state)),  # type: ignore[arg-type]
        ]
    )


# --- the table ---------------------------------------------------------------


def test_the_doors_page_shows_each_doors_state_and_list_versions(store, operator):
    report_state(
        store, "front", lock="unlocked", contact="open", acl_version=3, alarms=("held_open",)
    )
    with store.write() as db:
        db.execute("UPDATE door_status SET online = 1, mode = 'lockdown' WHERE door_id = 'front'")
        db.execute(
            "INSERT INTO door_lists (door_id, version, digest, published_at)"
            " VALUES ('front', 4, 'd', '2026-01-01T00:00:00.000000+00:00'),"
            " ('side', 2, 'd', '2026-01-01T00:00:00.000000+00:00')"
        )
        db.execute("INSERT INTO door_status (door_id, online, acl_version) VALUES ('side', 0, 2)")
    page = operator.get("/doors")
    assert page.status_code == 200
    front = row_of(page.text, 'data-door="front"')
    assert "online" in front
    assert "unlocked" in front
    assert "open" in front
    assert "lockdown" in front
    assert "held_open" in front
    assert "behind" in front
    assert "v4" in front
    assert "v3" in front
    side = row_of(page.text, 'data-door="side"')
    assert "offline" in side
    assert "v2 in sync" in side
    glade = row_of(page.text, 'data-door="glade"')
    assert "never seen" in glade
    assert "not published yet" in glade
    assert '<a href="/doors/front">Front</a>' in page.text


def row_of(html: str, marker: str) -> str:
    start = html.index(marker)
    return html[start : html.index("</tr>", start)]


def test_an_unknown_door_is_a_404_page(operator):
    answer = operator.get("/doors/nowhere")
    assert answer.status_code == 404
    assert "no door" in answer.text
    assert operator.post("/doors/nowhere/unlock", {"confirmed": "yes"}).status_code == 404


# --- unlock --------------------------------------------------------------------


def test_unlock_asks_first_and_sends_nothing_until_confirmed(store, operator, bus):
    answer = operator.post("/doors/front/unlock", {"seconds": "5"})
    assert answer.status_code == 200
    assert "Unlock Front for 5 s?" in answer.text
    assert 'name="confirmed" value="yes"' in answer.text
    assert 'name="seconds" value="5"' in answer.text
    assert bus.sent == []
    assert commands_sent(store) == []


def test_a_confirmed_unlock_is_published_recorded_and_audited(store, operator, bus):
    answer = operator.post("/doors/front/unlock", {"seconds": "5", "confirmed": "yes"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/doors/front"
    [(topic, message)] = bus.sent
    assert topic == Topics("testsite").door_command("front")
    assert isinstance(message, DoorCommand)
    assert (message.action, message.duration_s, message.issued_by) == ("unlock", 5, ACTOR)
    assert commands_sent(store) == [("front", "unlock", ACTOR)]
    assert audit_actions(store, "door.unlock") == [(ACTOR, "door.unlock", "front")]
    page = operator.get("/doors/front")
    assert f'data-command="{message.id}"' in page.text
    assert "waiting for the door" in page.text
    assert 'hx-get="/doors/front/live"' in page.text  # polls until the door answers


def test_the_door_page_shows_the_doors_answer(store, operator, bus):
    operator.post("/doors/front/unlock", {"confirmed": "yes"})
    [(_, command)] = bus.sent
    Ingest(store, presence.rules_from(config())).process(
        [
            Inbound("door", "front", CommandResult(command_id=command.id, ok=False, reason="busy")),
        ]
    )
    live = operator.get("/doors/front/live")
    assert live.status_code == 200
    assert "refused" in live.text
    assert "busy" in live.text
    assert "hx-get" not in live.text  # nothing left to wait for


def test_an_expired_unanswered_command_says_so(store, operator):
    old = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    with store.write() as db:
        db.execute(
            "INSERT INTO door_commands (id, door_id, action, issued_by, issued_at, expires_at)"
            " VALUES ('c1', 'front', 'unlock', 'web:x', ?, ?)",
            (old, old),
        )
    page = operator.get("/doors/front")
    assert "no answer" in page.text
    assert 'hx-get="/doors/front/live"' not in page.text


@pytest.mark.parametrize("seconds", ["0", "-3", "3601", "soon", "nan"])
def test_a_bad_unlock_time_is_an_inline_error(store, operator, bus, seconds):
    answer = operator.post("/doors/front/unlock", {"seconds": seconds, "confirmed": "yes"})
    assert answer.status_code == 422
    assert 'id="e-seconds"' in answer.text
    assert bus.sent == []
    assert commands_sent(store) == []


def test_without_the_mqtt_link_the_page_says_so(store):
    operator = signed_in(store, site_for(store))  # no bus extra
    answer = operator.post("/doors/front/unlock", {"confirmed": "yes"})
    assert answer.status_code == 503
    assert "MQTT link is unavailable" in answer.text
    assert commands_sent(store) == []
    lockdown = operator.post("/lockdown", {"state": "on", "confirmed": "yes"})
    assert lockdown.status_code == 503


def test_a_broker_that_is_down_is_a_503_not_a_500(store):
    down = FakeBus(connected=False)
    operator = signed_in(store, site_for(store, bus=down))
    answer = operator.post("/doors/front/unlock", {"confirmed": "yes"})
    assert answer.status_code == 503
    assert "not sent" in answer.text


# --- lockdown -------------------------------------------------------------------


def test_lockdown_of_all_doors_asks_then_sends_one_command_per_door(store, operator, bus):
    ask = operator.post("/lockdown", {"state": "on"})
    assert ask.status_code == 200
    assert "Lock down all 4 doors?" in ask.text
    assert bus.sent == []
    done = operator.post("/lockdown", {"state": "on", "door": "", "confirmed": "yes"})
    assert done.status_code == 303
    assert done.headers["location"] == "/doors"
    topics = Topics("testsite")
    assert sorted(topic for topic, _ in bus.sent) == sorted(
        topics.door_command(door) for door in ("exit", "front", "glade", "side")
    )
    assert {message.action for _, message in bus.sent} == {"lockdown"}  # type: ignore[attr-defined]
    assert [actor for actor, _, _ in audit_actions(store, "door.lockdown")] == [ACTOR] * 4


def test_ending_the_lockdown_of_one_door(store, operator, bus):
    ask = operator.post("/lockdown", {"state": "off", "door": "side"})
    assert "End the lockdown of Side" in ask.text
    done = operator.post("/lockdown", {"state": "off", "door": "side", "confirmed": "yes"})
    assert done.headers["location"] == "/doors/side"
    assert commands_sent(store) == [("side", "normal", ACTOR)]
    assert [topic for topic, _ in bus.sent] == [Topics("testsite").door_command("side")]


def test_the_door_page_shows_the_mode_the_door_reports(store, operator):
    with store.write() as db:
        db.execute("INSERT INTO door_status (door_id, mode) VALUES ('front', 'lockdown')")
    page = operator.get("/doors/front")
    assert "reports mode <strong>lockdown</strong>" in page.text


def test_a_bad_lockdown_request_is_not_a_500(store, operator, bus):
    assert operator.post("/lockdown", {"state": "maybe", "confirmed": "yes"}).status_code == 422
    assert operator.post("/lockdown", {"state": "on", "door": "nowhere"}).status_code == 404
    assert bus.sent == []


# --- hold-open hours: the service ---------------------------------------------------


def test_parse_weekly_reads_ranges_per_day():
    weekly, errors = doors.parse_weekly(
        {
            "mon": "08:00-17:00",
            "tue": " 13:00-17:00 , 8:00-12:00 ",
            "wed": "",
            "sun": "10:00-24:00",
        }
    )
    assert errors == {}
    assert weekly == {
        "mon": ("08:00-17:00",),
        "tue": ("08:00-12:00", "13:00-17:00"),
        "sun": ("10:00-24:00",),
    }
    ScheduleSpec(id="x", weekly=weekly)  # the door accepts what it gives


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("25:00-26:00", "within the day"),
        ("08:60-09:00", "within the day"),
        ("17:00-08:00", "end must be after the start"),
        ("08:00-08:00", "end must be after the start"),
        ("garbage", "not a time range"),
        ("08:00-12:00, 11:00-13:00", "overlap"),
        ("24:00-24:30", "within the day"),
        ("08:00-09:00, " * 20, "longer than"),
    ],
)
def test_parse_weekly_reports_each_bad_day(text, problem):
    weekly, errors = doors.parse_weekly({"mon": "08:00-17:00", "wed": text})
    assert list(errors) == ["wed"]
    assert problem in errors["wed"]
    assert weekly == {"mon": ("08:00-17:00",)}


def test_describe_weekly_groups_days_alike():
    weekly: doors.Weekly = {day: ("08:00-17:00",) for day in ("mon", "tue", "wed", "thu", "fri")}
    weekly["sun"] = ("10:00-14:00",)
    assert doors.describe_weekly(weekly) == "Mon–Fri 08:00-17:00; Sun 10:00-14:00"
    assert doors.describe_weekly({"mon": ("08:00-09:00",), "wed": ("08:00-09:00",)}) == (
        "Mon 08:00-09:00; Wed 08:00-09:00"
    )
    assert doors.describe_weekly(None) == ""


def test_set_open_schedule_stores_it_and_republishes_the_lists(store):
    before = store.counter("access_lists")
    schedule_id = doors.set_open_schedule(store, "front", {"mon": ("08:00-17:00",)}, ACTOR)
    assert schedule_id == "open-front"
    assert store.counter("access_lists") > before
    row = store.query_one("SELECT open_schedule_id FROM doors WHERE id = 'front'")
    assert row[0] == "open-front"
    assert doors.open_schedule(store, "front") == {"mon": ("08:00-17:00",)}
    changed = store.counter("access_lists")
    doors.set_open_schedule(store, "front", {"tue": ("09:00-10:00",)}, ACTOR)
    assert store.counter("access_lists") > changed  # an UPDATE of weekly republishes too
    assert json.loads(store.query_one("SELECT weekly FROM schedules")[0]) == {
        "tue": ["09:00-10:00"]
    }
    assert audit_actions(store, "door.open_schedule") == [
        (ACTOR, "door.open_schedule.set", "front"),
        (ACTOR, "door.open_schedule.set", "front"),
    ]


def test_a_schedule_shared_with_an_access_rule_is_not_changed(store):
    with store.write() as db:
        db.execute("INSERT INTO schedules (id, name, weekly) VALUES ('office', 'Office', '{}')")
        db.execute(
            "INSERT INTO access_rules (door_group, tier, schedule_id)"
            " VALUES ('default', 'member', 'office')"
        )
        db.execute("UPDATE doors SET open_schedule_id = 'office' WHERE id = 'front'")
    assert doors.set_open_schedule(store, "front", {"mon": ("08:00-09:00",)}, ACTOR) == "open-front"
    assert store.query_one("SELECT weekly FROM schedules WHERE id = 'office'")[0] == "{}"
    assert doors.clear_open_schedule(store, "front", ACTOR)
    assert store.query_one("SELECT 1 FROM schedules WHERE id = 'open-front'") is None
    assert doors.clear_open_schedule(store, "front", ACTOR) is False


def test_the_service_refuses_what_the_door_would_not_accept(store):
    with pytest.raises(Invalid):
        doors.set_open_schedule(store, "front", {"mon": ("17:00-08:00",)}, ACTOR)
    with pytest.raises(Invalid):
        doors.set_open_schedule(store, "front", {}, ACTOR)
    with pytest.raises(NotFound):
        doors.set_open_schedule(store, "nowhere", {"mon": ("08:00-09:00",)}, ACTOR)
    assert store.query_one("SELECT count(*) FROM schedules")[0] == 0


# --- hold-open hours: the page ------------------------------------------------------


def test_saving_hours_on_the_door_page(store, operator):
    answer = operator.post(
        "/doors/front/schedule", {"mon": "08:00-12:00, 13:00-17:00", "tue": "08:00-17:00"}
    )
    assert answer.status_code == 303
    assert doors.open_schedule(store, "front") == {
        "mon": ("08:00-12:00", "13:00-17:00"),
        "tue": ("08:00-17:00",),
    }
    page = operator.get("/doors/front")
    assert 'value="08:00-12:00, 13:00-17:00"' in page.text
    table = operator.get("/doors")
    assert "Mon 08:00-12:00, 13:00-17:00; Tue 08:00-17:00" in row_of(
        table.text, 'data-door="front"'
    )
    assert audit_actions(store, "door.open_schedule") == [
        (ACTOR, "door.open_schedule.set", "front")
    ]


def test_bad_hours_are_inline_errors_per_day(store, operator):
    answer = operator.post(
        "/doors/front/schedule", {"mon": "25:00-26:00", "tue": "08:00-17:00", "fri": "17:00-08:00"}
    )
    assert answer.status_code == 422
    assert 'id="e-mon"' in answer.text
    assert 'id="e-fri"' in answer.text
    assert 'id="e-tue"' not in answer.text
    assert 'value="25:00-26:00"' in answer.text  # what was typed stays
    assert doors.open_schedule(store, "front") is None


def test_clearing_every_day_asks_and_then_removes_the_schedule(store, operator):
    doors.set_open_schedule(store, "front", {"mon": ("08:00-17:00",)}, ACTOR)
    ask = operator.post("/doors/front/schedule", {day: "" for day in doors.DAY_NAMES})
    assert ask.status_code == 200
    assert "Stop holding Front open (Mon 08:00-17:00)?" in ask.text
    assert doors.open_schedule(store, "front") is not None
    done = operator.post("/doors/front/schedule", {"clear": "yes", "confirmed": "yes"})
    assert done.status_code == 303
    assert doors.open_schedule(store, "front") is None
    assert store.query_one("SELECT open_schedule_id FROM doors WHERE id = 'front'")[0] is None
    assert audit_actions(store, "door.open_schedule.clear") == [
        (ACTOR, "door.open_schedule.clear", "front")
    ]


def test_the_remove_button_also_asks_first(store, operator):
    doors.set_open_schedule(store, "front", {"mon": ("08:00-17:00",)}, ACTOR)
    ask = operator.post("/doors/front/schedule", {"clear": "yes"})
    assert "Stop holding Front open" in ask.text
    assert doors.open_schedule(store, "front") == {"mon": ("08:00-17:00",)}


# --- roles ----------------------------------------------------------------------------


def test_a_host_gets_403_everywhere_here(store, bus):
    site = site_for(store, bus=bus)
    host = signed_in(store, site, role="host")
    for path in ("/doors", "/doors/front", "/doors/front/live"):
        assert host.get(path).status_code == 403, path
    for path in ("/doors/front/unlock", "/lockdown", "/doors/front/schedule"):
        assert (
            host.post(path, {"state": "on", "confirmed": "yes", "clear": "yes"}).status_code == 403
        )
    assert bus.sent == []
    assert commands_sent(store) == []
