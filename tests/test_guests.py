"""Guest passes: registering a member's guest for a day, its card, its limits, and
``hubtap guests``."""

import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub_server import audit, cards, enrolment, guests, members, presence
from hub_server.errors import Conflict, Invalid, NotFound, Refused
from hub_server.guests import GuestIn
from hub_server.models import CardIn, MemberChange, MemberIn, build
from hub_server.presence_rules import PresenceRules
from hub_server.store import Store, now_text
from hublink.credentials import credential_hash
from hublink.messages import utcnow
from tests.helpers.door_hardware import SITE_KEY
from tests.helpers.hub_data import ACTOR, UIDS, credential, seed
from tests.test_calendar_access import add_event, sign_up
from tests.test_hub_cli import ACTOR as CLI_ACTOR
from tests.test_hub_cli import KEY_HEX, Hub, rows

TZ = "Europe/Stockholm"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 in Stockholm
MIDNIGHT = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)  # the end of the 25th in Stockholm
CARD_UID = "04C0FFEE0042"
CARD = credential_hash(SITE_KEY, bytes.fromhex(CARD_UID))


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as store:
        yield seed(store)


def register(
    store: Store, host: str = "m-asa", *, now: datetime = NOW, request_id: str | None = None,
    **values: object,
) -> guests.GuestPass:  # fmt: skip
    data = build(GuestIn, **({"first_name": "Erik", "host_member_id": host} | values))
    return guests.register(
        store, data, actor=ACTOR, source="kiosk", timezone=TZ, now=now, request_id=request_id
    )


def refusal(store: Store, **values: object) -> tuple[str, str]:
    """The reason and message of a refused registration; checks nothing was written."""
    before = written(store)
    with pytest.raises(Refused) as refused:
        register(store, **values)
    assert written(store) == before
    return refused.value.reason, str(refused.value)


def written(store: Store) -> tuple[object, ...]:
    """What a registration changes: passes, the audit log and the counters."""
    passes = store.query("SELECT * FROM guest_passes ORDER BY id")
    return (
        [tuple(row) for row in passes],
        len(audit.entries(store, limit=1000)),
        store.counter("access_lists"),
        store.counter("directory"),
    )


def set_guests_per_day(store: Store, limit: int) -> None:
    with store.write() as db:
        db.execute("UPDATE tiers SET guests_per_day = ? WHERE id = 'member'", (limit,))


# --- registering ----------------------------------------------------------------------------


def test_a_guest_gets_a_day_pass_from_now_until_midnight_in_the_hubs_zone(store):
    issued = register(store, first_name="  Erik   Johan ", credential=CARD, hint="0042")
    assert re.fullmatch(r"g-[0-9a-f]{12}", issued.id)
    assert issued.model_dump(exclude={"id", "created_at"}) == {
        "first_name": "Erik Johan",
        "host_member_id": "m-asa",
        "host_first_name": "Åsa",
        "event_id": None,
        "day": date(2026, 11, 25),
        "valid_from": NOW,
        "valid_until": MIDNIGHT,
        "hint": "0042",
        "has_card": True,
        "status": "active",
        "source": "kiosk",
    }
    assert issued.created_at == NOW
    assert guests.get(store, issued.id) == issued
    [entry] = audit.entries(store, limit=1)
    assert (entry.actor, entry.action, entry.target) == (ACTOR, "guest.add", issued.id)
    assert entry.detail["host"] == "m-asa"
    assert entry.detail["card"] is True
    assert CARD not in str(entry.detail)


def test_today_is_the_day_in_the_hubs_zone_not_in_utc(store):
    late = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # 00:30 on the 26th in Stockholm
    issued = register(store, now=late)
    assert issued.day == date(2026, 11, 26)
    assert (issued.valid_from, issued.valid_until) == (
        late,
        datetime(2026, 11, 26, 23, 0, tzinfo=UTC),
    )


def test_a_pass_for_a_later_day_starts_at_that_days_midnight(store):
    issued = register(store, day=date(2026, 11, 27))
    assert issued.valid_from == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert issued.valid_until == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        (date(2026, 3, 29), datetime(2026, 3, 28, 23, tzinfo=UTC),
         datetime(2026, 3, 29, 22, tzinfo=UTC), 23),  # clocks go forward: a 23-hour day
        (date(2026, 10, 25), datetime(2026, 10, 24, 22, tzinfo=UTC),
         datetime(2026, 10, 25, 23, tzinfo=UTC), 25),  # and back: 25 hours
    ],
)  # fmt: skip
def test_a_pass_ends_at_local_midnight_across_a_dst_change(store, day, start, end, hours):
    issued = register(store, day=day, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert (issued.valid_from, issued.valid_until) == (start, end)
    assert issued.valid_until - issued.valid_from == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        (date(2026, 11, 24), "2026-11-24 is in the past (today is 2026-11-25)"),
        (date(2027, 12, 1), "2027-12-01 is more than 366 days ahead"),
        (date.max, "9999-12-31 is more than 366 days ahead"),
    ],
)
def test_a_day_in_the_past_or_too_far_ahead_is_invalid(store, day, problem):
    with pytest.raises(Invalid) as err:
        register(store, day=day)
    assert (err.value.field, err.value.problem) == ("day", problem)
    assert store.query("SELECT * FROM guest_passes") == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"first_name": " "}, "first_name"),
        ({"first_name": "A" * 41}, "first_name"),
        ({"first_name": "Erik\x07"}, "first_name"),
        ({"host_member_id": "not an id"}, "host_member_id"),
        ({"credential": CARD.upper()}, "credential"),
        ({"credential": "ab" * 31}, "credential"),
        ({"hint": "0042"}, "GuestIn"),
        ({"credential": CARD, "hint": "xyz1"}, "hint"),
        ({"id": "m-123"}, "id"),
        ({"surname": "Ek"}, "surname"),
    ],
)
def test_bad_input_names_the_field(values, field):
    with pytest.raises(Invalid) as err:
        build(GuestIn, **({"first_name": "Erik", "host_member_id": "m-asa"} | values))
    assert err.value.field == field


def test_a_forty_character_first_name_is_kept_whole(store):
    assert register(store, first_name="Å" * 40).first_name == "Å" * 40


def test_an_unknown_source_or_time_zone_is_invalid(store):
    data = build(GuestIn, first_name="Erik", host_member_id="m-asa")
    with pytest.raises(Invalid) as err:
        guests.register(store, data, actor=ACTOR, source="door", timezone=TZ, now=NOW)  # type: ignore[arg-type]
    assert err.value.field == "source"
    with pytest.raises(Invalid) as err:
        guests.register(store, data, actor=ACTOR, source="api", timezone="Mars/Olympus", now=NOW)
    assert err.value.field == "timezone"


# --- who may register -----------------------------------------------------------------------


def test_the_host_must_exist_and_be_an_active_valid_member(store):
    with pytest.raises(NotFound, match="no member 'm-nobody'"):
        register(store, "m-nobody")
    members.change(store, "m-bjorn", MemberChange(status="suspended"), ACTOR)
    assert refusal(store, host="m-bjorn") == (
        "not_allowed",
        "Björn's membership is suspended: no guests",
    )
    members.deactivate(store, "m-sigrid", ACTOR)
    assert refusal(store, host="m-sigrid")[0] == "not_allowed"
    members.change(store, "m-asa", build(MemberChange, valid_until=NOW), ACTOR)
    assert refusal(store, host="m-asa") == (
        "not_allowed",
        "Åsa's membership has ended: no guests",
    )


def test_the_hosts_tier_caps_the_passes_of_a_local_day(store):
    set_guests_per_day(store, 2)
    register(store, day=date(2026, 11, 26))  # tomorrow's pass does not count today
    register(store, day=date(2026, 11, 26))
    register(store, "m-bjorn")  # nor another member's
    register(store)
    second = register(store)
    assert refusal(store) == (
        "guest_limit",
        "Åsa may bring 2 guests a day, and has registered 2 for 2026-11-25",
    )
    assert refusal(store, day=date(2026, 11, 26))[0] == "guest_limit"
    guests.cancel(store, second.id, actor=ACTOR, now=NOW)  # a cancelled pass gives its place back
    register(store)
    late = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # already the 26th in Stockholm
    assert refusal(store, now=late)[0] == "guest_limit"
    assert register(store, now=late, day=date(2026, 11, 27)).day == date(2026, 11, 27)


def test_a_tier_without_guests_says_so(store):
    set_guests_per_day(store, 0)
    assert refusal(store) == ("guest_limit", "Åsa's membership (Member) has no guests")
    set_guests_per_day(store, 1)
    register(store)
    assert refusal(store)[1] == "Åsa may bring 1 guest a day, and has registered 1 for 2026-11-25"


# --- events ---------------------------------------------------------------------------------


def test_a_pass_for_an_event_needs_the_hosts_live_signup_on_that_day(store):
    evening = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    add_event(store, "ev-yoga", evening, evening + timedelta(hours=2), zone="glade")
    add_event(store, "ev-gone", evening, evening + timedelta(hours=2), zone="glade",
              status="cancelled", title="Storytelling")  # fmt: skip
    add_event(store, "ev-next", evening + timedelta(days=1), evening + timedelta(days=1, hours=1),
              zone="glade", title="Planning")  # fmt: skip
    with pytest.raises(NotFound, match="no event 'ev-none'"):
        register(store, event_id="ev-none")
    assert refusal(store, event_id="ev-yoga") == (
        "not_signed_up",
        "Åsa is not signed up for Forest yoga",
    )
    sign_up(store, "ev-yoga", "m-asa", "cancelled")
    assert refusal(store, event_id="ev-yoga")[0] == "not_signed_up"
    sign_up(store, "ev-gone", "m-asa")
    assert refusal(store, event_id="ev-gone") == ("not_signed_up", "Storytelling is cancelled")
    sign_up(store, "ev-next", "m-asa")
    assert refusal(store, event_id="ev-next") == (
        "not_signed_up",
        "Planning is on 2026-11-26, not on 2026-11-25",
    )
    assert register(store, event_id="ev-next", day=date(2026, 11, 26)).event_id == "ev-next"
    sign_up(store, "ev-yoga", "m-asa", "waitlisted")  # a live signup, on the waitlist
    assert register(store, event_id="ev-yoga").event_id == "ev-yoga"


# --- cards ----------------------------------------------------------------------------------


def test_a_pass_refuses_a_members_card_but_not_a_revoked_one(store):
    assert refusal(store, credential=credential("m-bjorn")) == (
        "card_in_use",
        "This card belongs to a member: a guest needs another card",
    )
    cards.revoke(store, cards.find(store, member_id="m-bjorn")[0].id, ACTOR)
    assert register(store, credential=credential("m-bjorn")).has_card


def test_a_card_is_on_one_pass_at_a_time(store):
    first = register(store, credential=CARD)
    assert refusal(store, host="m-bjorn", credential=CARD, first_name="Olle") == (
        "card_in_use",
        "This card is already guest Erik's day pass for 2026-11-25",
    )
    tomorrow = register(store, credential=CARD, day=date(2026, 11, 26))  # after the first ends
    assert refusal(store, host="m-bjorn", credential=CARD, now=MIDNIGHT)[1] == (
        "This card is already guest Erik's day pass for 2026-11-26"
    )
    guests.cancel(store, tomorrow.id, actor=ACTOR, now=NOW)  # a cancelled pass frees its card
    assert register(store, "m-bjorn", credential=CARD, now=MIDNIGHT).has_card
    assert guests.get(store, first.id).status == "active"


def test_a_card_on_a_running_pass_cannot_be_enrolled_to_a_member(store):
    register(store, credential=CARD)
    with pytest.raises(Conflict) as err:
        cards.add(store, SITE_KEY, build(CardIn, member_id="m-bjorn", uid=CARD_UID), ACTOR,
                  now=NOW)  # fmt: skip
    assert str(err.value).startswith("card …0042 is guest Erik's day pass (g-")
    assert str(err.value).endswith(") for 2026-11-25, until midnight")
    assert CARD not in {c.hash for c in cards.find(store, include_revoked=True)}
    added = cards.add(
        store, SITE_KEY, build(CardIn, member_id="m-bjorn", uid=CARD_UID), ACTOR, now=MIDNIGHT
    )  # once the pass has ended, the card is free
    assert added.hash == CARD


def test_enrolment_by_tap_leaves_a_card_on_a_running_pass_alone(store):
    register(store, credential=CARD, now=utcnow())
    waiting = enrolment.start(store, "m-bjorn", "front", ACTOR)
    with store.write() as db:
        assert enrolment.match(db, "front", CARD, "0042", utcnow()) is None
    assert enrolment.get(store, waiting.id).status == "waiting"
    assert CARD not in {c.hash for c in cards.find(store, include_revoked=True)}


def test_a_card_can_be_given_to_a_running_pass_later(store):
    issued = register(store)
    assert (issued.has_card, issued.hint) == (False, None)
    with pytest.raises(Refused) as err:
        guests.give_card(store, issued.id, credential("m-asa"), "d4e5", actor=ACTOR, now=NOW)
    assert err.value.reason == "card_in_use"
    given = guests.give_card(store, issued.id, CARD, "0042", actor=ACTOR, now=NOW)
    assert (given.has_card, given.hint) == (True, "0042")
    again = guests.give_card(store, issued.id, CARD, "0042", actor=ACTOR, now=NOW)  # its own
    assert again.has_card
    assert [e.action for e in audit.entries(store, limit=2)] == ["guest.card", "guest.card"]
    with pytest.raises(Invalid) as bad:
        guests.give_card(store, issued.id, "x" * 64, None, actor=ACTOR, now=NOW)
    assert bad.value.field == "credential"
    with pytest.raises(Refused) as ended:
        guests.give_card(store, issued.id, CARD, None, actor=ACTOR, now=MIDNIGHT)
    assert (ended.value.reason, str(ended.value)) == (
        "not_allowed",
        "Guest Erik's day pass has expired",
    )
    guests.cancel(store, issued.id, actor=ACTOR, now=NOW)
    with pytest.raises(Refused, match="Guest Erik's day pass is cancelled"):
        guests.give_card(store, issued.id, CARD, None, actor=ACTOR, now=NOW)
    with pytest.raises(NotFound):
        guests.give_card(store, "g-000000000000", CARD, None, actor=ACTOR, now=NOW)


# --- idempotence, ids, cancelling, finding ----------------------------------------------------


def test_a_repeated_request_returns_the_first_pass_and_writes_nothing(store):
    set_guests_per_day(store, 1)
    first = register(store, request_id="req-1", credential=CARD)
    before = written(store)
    again = register(store, request_id="req-1", credential=CARD, first_name="Someone")
    assert again == first
    assert written(store) == before
    assert refusal(store, request_id="req-2")[0] == "guest_limit"


def test_a_pass_id_may_be_given_but_never_a_taken_or_a_members_id(store):
    assert register(store, id="g-0123456789ab").id == "g-0123456789ab"
    with pytest.raises(Conflict, match="a guest pass with id g-0123456789ab exists"):
        register(store, id="g-0123456789ab")
    members.add(store, build(MemberIn, id="g-aaaaaaaaaaaa", first_name="G", last_name="M"), ACTOR)
    with pytest.raises(Conflict, match="g-aaaaaaaaaaaa is a member's id"):
        register(store, id="g-aaaaaaaaaaaa")
    assert len(store.query("SELECT * FROM guest_passes")) == 1


def test_cancel_marks_the_pass_and_a_second_cancel_is_a_conflict(store):
    issued = register(store, credential=CARD)
    later = NOW + timedelta(hours=1)
    cancelled = guests.cancel(store, issued.id, actor=ACTOR, now=later)
    assert cancelled.status == "cancelled"
    row = store.query_one("SELECT cancelled_at FROM guest_passes WHERE id = ?", (issued.id,))
    assert row["cancelled_at"] == now_text(later)
    assert [(e.action, e.target) for e in audit.entries(store, limit=1)] == [
        ("guest.cancel", issued.id)
    ]
    with pytest.raises(Conflict, match="already cancelled"):
        guests.cancel(store, issued.id, actor=ACTOR, now=later)
    with pytest.raises(NotFound):
        guests.cancel(store, "g-ffffffffffff", actor=ACTOR, now=later)


def test_passes_of_a_day_and_of_a_host(store):
    a = register(store, first_name="Erik")
    b = register(store, "m-bjorn", first_name="Olle", now=NOW + timedelta(minutes=1))
    c = register(store, first_name="Stina", day=date(2026, 11, 27))
    guests.cancel(store, b.id, actor=ACTOR, now=NOW)
    assert [(p.id, p.status) for p in guests.of_day(store, date(2026, 11, 25))] == [
        (a.id, "active"),
        (b.id, "cancelled"),
    ]
    assert guests.of_day(store, date(2026, 11, 26)) == []
    assert [p.id for p in guests.of_host(store, "m-asa")] == [a.id, c.id]
    assert [p.id for p in guests.of_host(store, "m-asa", since=date(2026, 11, 26))] == [c.id]
    assert [p.id for p in guests.of_host(store, "m-asa", until=date(2026, 11, 26))] == [a.id]
    with pytest.raises(NotFound):
        guests.of_host(store, "m-nobody")


def test_valid_at_holds_running_passes_with_cards_of_active_hosts(store):
    running = register(store, credential=CARD)
    register(store, credential="ab" * 32, day=date(2026, 11, 26))  # tomorrow
    register(store)  # no card
    register(store, "m-bjorn", credential="cd" * 32)
    members.change(store, "m-bjorn", MemberChange(status="suspended"), ACTOR)
    assert [r["id"] for r in guests.valid_at(store.read(), NOW)] == [running.id]
    assert guests.valid_at(store.read(), NOW - timedelta(seconds=1)) == []
    assert (
        guests.valid_at(store.read(), MIDNIGHT - timedelta(microseconds=1))[0]["id"] == running.id
    )
    assert [r["credential"] for r in guests.valid_at(store.read(), MIDNIGHT)] == ["ab" * 32]


def test_a_guests_granted_tap_counts_in_occupancy(store):
    issued = register(store, credential=CARD)
    with store.write() as db:
        db.execute(
            "INSERT INTO access_events (id, ts, door_id, reader_id, granted, reason, member_id,"
            " credential, role, received_at) VALUES ('e1', ?, 'front', 'r1', 1, 'guest_pass', ?,"
            " ?, 'guest', ?)",
            (now_text(NOW), issued.id, CARD, now_text(NOW)),
        )
        rules = PresenceRules(ZoneInfo(TZ), None, timedelta(hours=12))
        assert presence.rebuild(db, issued.id, NOW, rules, NOW)
    counts = presence.counts(store)
    assert (counts.site, counts.zones) == (1, {"campfire": 1})


# --- hubtap guests --------------------------------------------------------------------------


@pytest.fixture
def hub(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> Hub:
    """``hubtap`` with the guests commands registered, a hub in Stockholm with Åsa in it."""
    for name in list(os.environ):
        if name.startswith("HUBTAP_"):
            monkeypatch.delenv(name)
    hub = Hub(tmp_path, capsys)
    hub.write_config(extra='[hub]\ntimezone = "Europe/Stockholm"\n')
    hub.ok("members", "add", "--first-name", "Åsa", "--last-name", "Öberg", "--id", "m-asa")
    return hub


def test_guests_on_the_command_line(hub):
    site_key = bytes.fromhex(KEY_HEX)
    today = utcnow().astimezone(ZoneInfo(TZ)).date()
    day = (today + timedelta(days=2)).isoformat()
    out = hub.ok("guests", "add", "--host", "m-asa", "--first-name", "Erik", "--day", day,
                 "--card", "04:C0:FF:EE")  # fmt: skip
    assert out.startswith("guest pass g-")
    assert out.endswith(f": Erik, guest of Åsa, until {today + timedelta(days=3)} 00:00\n")
    pass_id = out.split()[2].rstrip(":")
    with hub.store() as store:
        row = store.query_one("SELECT credential, hint, source FROM guest_passes")
        assert tuple(row) == (credential_hash(site_key, bytes.fromhex("04C0FFEE")), "ffee", "cli")
    hub.ok("guests", "add", "--host", "m-asa", "--first-name", "Olle")
    assert rows(hub.ok("guests", "list", "--day", day)) == [
        ["ID", "DAY", "GUEST", "HOST", "EVENT", "CARD", "UNTIL", "STATUS"],
        [pass_id, day, "Erik", "Åsa (m-asa)", "-", "…ffee", f"{today + timedelta(days=3)} 00:00",
         "active"],
    ]  # fmt: skip
    assert [r[2] for r in rows(hub.ok("guests", "list", "--host", "m-asa"))[1:]] == [
        "Olle",
        "Erik",
    ]
    assert hub.ok("guests", "card", pass_id, "0A0B0C0E") == (
        f"guest pass {pass_id} (Erik) now has card …0c0e\n"
    )
    assert hub.ok("guests", "cancel", pass_id) == (
        f"guest pass {pass_id} (Erik, guest of Åsa) cancelled\n"
    )
    again = hub("guests", "cancel", pass_id)
    assert (again.status, again.err) == (1, f"hubtap: guest pass {pass_id} is already cancelled\n")
    with hub.store() as store:
        actions = [
            (e.actor, e.action) for e in audit.entries(store) if e.action.startswith("guest")
        ]
    assert {actor for actor, _ in actions} == {CLI_ACTOR}
    assert [action for _, action in actions] == [
        "guest.cancel",
        "guest.card",
        "guest.add",
        "guest.add",
    ]


def test_bad_guest_commands_are_one_line_errors(hub):
    limit = hub("guests", "add", "--host", "m-nobody", "--first-name", "Erik")
    assert (limit.status, limit.err) == (1, "hubtap: no member 'm-nobody'\n")
    past = hub("guests", "add", "--host", "m-asa", "--first-name", "Erik", "--day", "2020-01-01")
    assert past.status == 1
    assert past.err.startswith("hubtap: day: 2020-01-01 is in the past")
    bad_day = hub("guests", "list", "--day", "tomorrow")
    assert (bad_day.status, bad_day.err.split(":")[1]) == (1, " --day")
    bad_uid = hub("guests", "add", "--host", "m-asa", "--first-name", "Erik", "--card", "xyz")
    assert bad_uid.status == 1
    assert bad_uid.err.startswith("hubtap: UID: not a card UID")
    hub.write_config(extra='[hub]\ntimezone = "Europe/Stockholm"\n', key=False)
    no_key = hub("guests", "add", "--host", "m-asa", "--first-name", "Erik", "--card", "0A0B")
    assert no_key.status == 2
    assert "a guest's card needs the site key" in no_key.err
    with Store.in_folder(hub.data_dir) as store:
        assert store.query("SELECT * FROM guest_passes") == []


def test_the_card_of_a_seeded_member_is_refused_on_the_command_line(hub):
    hub.ok("cards", "add", "m-asa", UIDS["m-asa"])
    result = hub("guests", "add", "--host", "m-asa", "--first-name", "Erik", "--card",
                 UIDS["m-asa"])  # fmt: skip
    assert (result.status, result.err) == (
        1,
        "hubtap: This card belongs to a member: a guest needs another card\n",
    )
