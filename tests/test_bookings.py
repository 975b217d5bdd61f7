"""Room bookings on a real SQLite store: rules, refusals, clashes, prices, windows, the CLI."""

import argparse
import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub_server import audit, bookings, cli_bookings, members, organisations, places
from hub_server.bookings import BookingIn, RoomWindow
from hub_server.config import CommunitySection
from hub_server.errors import Conflict, Invalid, NotFound, Refused
from hub_server.models import MemberChange, OrganisationIn, RoomIn, build
from hub_server.store import Store, now_text
from tests.helpers.hub_data import ACTOR, seed

TZ = "Europe/Stockholm"
ZONE = ZoneInfo(TZ)
COMMUNITY = CommunitySection()  # mon-fri 08:00-17:00, 15-minute steps, 8 h at most, 5 min grace


def local(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A local time in December 2026 (the 1st is a Tuesday), as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


NOW = local(1, 8)


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as s:
        seed(s)
        organisations.add(s, OrganisationIn(name="Skogsbyrån AB", id="o-skog"), ACTOR)
        members.change(s, "m-asa", MemberChange(organisation="o-skog"), ACTOR)
        for room_id, name in (("lookout", "Lookout"), ("oasis", "Oasis")):
            room = build(
                RoomIn,
                id=room_id,
                name=name,
                capacity=8,
                hourly_rate_cents=6000,
                out_of_hours_rate_cents=9000,
            )
            places.add_room(s, room, ACTOR)
        yield s


def book(
    store: Store,
    start: datetime,
    minutes: int = 60,
    *,
    room: str = "lookout",
    member: str = "m-asa",
    now: datetime = NOW,
    community: CommunitySection = COMMUNITY,
    **values: Any,
) -> bookings.Booking:
    request_id = values.pop("request_id", None)
    data = build(
        BookingIn, room_id=room, member_id=member, starts_at=start, minutes=minutes, **values
    )
    return bookings.book(
        store,
        data,
        actor=ACTOR,
        source="dashboard",
        community=community,
        timezone=TZ,
        now=now,
        request_id=request_id,
    )


def refused(store: Store, start: datetime, minutes: int = 60, **values: Any) -> Refused:
    with pytest.raises(Refused) as caught:
        book(store, start, minutes, **values)
    return caught.value


def footprint(store: Store) -> tuple[int, int, int]:
    """Bookings, audit entries and the bookings change counter."""
    return (
        store.query_one("SELECT count(*) FROM bookings")[0],
        store.query_one("SELECT count(*) FROM audit_log")[0],
        store.counter("bookings"),
    )


# --- booking -------------------------------------------------------------------------


def test_a_booking_is_stored_priced_and_audited(store):
    booking = book(store, local(1, 16, 30), 90)  # 16:30-18:00: 30 office, 60 out of hours
    assert booking == bookings.get(store, booking.id)
    assert re.fullmatch(r"b-[0-9a-f]{12}", booking.id)
    assert (booking.room_id, booking.room_name) == ("lookout", "Lookout")
    assert (booking.member_id, booking.member_first_name, booking.member_last_name) == (
        "m-asa",
        "Åsa",
        "Test",
    )
    assert (booking.organisation_id, booking.organisation_name) == ("o-skog", "Skogsbyrån AB")
    assert (booking.starts_at, booking.ends_at) == (local(1, 16, 30), local(1, 18))
    assert (booking.office_minutes, booking.off_hours_minutes, booking.minutes) == (30, 60, 90)
    assert booking.amount_cents == 3000 + 9000
    assert (booking.status, booking.source, booking.event_id) == ("booked", "dashboard", None)
    assert booking.created_at == NOW
    assert booking.cancelled_at is None
    entry = audit.entries(store, limit=1)[0]
    assert (entry.action, entry.target, entry.actor) == ("booking.add", booking.id, ACTOR)
    assert entry.detail["room"] == "lookout"
    assert entry.detail["amount_cents"] == 12000


def test_the_start_is_truncated_to_the_minute_and_kept_in_utc(store):
    start = datetime(2026, 12, 1, 10, 0, 42, 123, tzinfo=ZONE)
    booking = book(store, start)
    assert booking.starts_at == local(1, 10)
    assert booking.starts_at.utcoffset() == timedelta(0)
    assert store.query_one("SELECT starts_at FROM bookings")[0] == now_text(local(1, 10))


def test_a_member_without_organisation_books_without_one(store):
    booking = book(store, local(1, 10), member="m-bjorn")
    assert (booking.organisation_id, booking.organisation_name) == (None, None)


def test_a_given_id_is_used_and_a_taken_one_refused(store):
    assert book(store, local(1, 10), id="b-0123456789ab").id == "b-0123456789ab"
    with pytest.raises(Conflict, match="b-0123456789ab exists"):
        book(store, local(1, 12), id="b-0123456789ab")
    with pytest.raises(Invalid) as caught:
        book(store, local(1, 12), id="booking-1")
    assert caught.value.field == "id"


@pytest.mark.parametrize(
    ("minutes", "problem"),
    [
        (50, "must be a whole number of 15 minutes"),
        (8 * 60 + 15, "must be at most 8 hours"),
    ],
)
def test_lengths_the_rules_do_not_allow_are_invalid(store, minutes, problem):
    with pytest.raises(Invalid) as caught:
        book(store, local(1, 10), minutes)
    assert (caught.value.field, caught.value.problem) == ("minutes", problem)


def test_the_length_rules_follow_the_configuration(store):
    community = CommunitySection(booking_step_min=30, booking_max_h=1.5)
    with pytest.raises(Invalid, match="whole number of 30 minutes"):
        book(store, local(1, 10), 45, community=community)
    with pytest.raises(Invalid, match=r"at most 1\.5 hours"):
        book(store, local(1, 10), 120, community=community)
    assert book(store, local(1, 10), 90, community=community).minutes == 90
    assert book(store, local(1, 12), 8 * 60).minutes == 480  # the default allows 8 hours


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"minutes": 0}, "minutes"),
        ({"minutes": -15}, "minutes"),
        ({"starts_at": datetime(2026, 12, 1, 10)}, "starts_at"),  # no offset
        ({"starts_at": datetime(9999, 12, 31, 23, tzinfo=UTC)}, "starts_at"),  # ends past 9999
        ({"room_id": "no room!"}, "room_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_names_the_field(values, field):
    given = {"room_id": "lookout", "member_id": "m-asa", "starts_at": local(1, 10), "minutes": 60}
    with pytest.raises(Invalid) as caught:
        build(BookingIn, **(given | values))
    assert caught.value.field == field


def test_an_unknown_room_or_member_is_not_found(store):
    with pytest.raises(NotFound, match="no room 'attic'"):
        book(store, local(1, 10), room="attic")
    with pytest.raises(NotFound, match="no member 'm-nobody'"):
        book(store, local(1, 10), member="m-nobody")


@pytest.mark.parametrize("status", ["suspended", "inactive"])
def test_a_member_who_is_not_active_may_not_book(store, status):
    members.change(store, "m-bjorn", MemberChange(status=status), ACTOR)
    error = refused(store, local(1, 10), member="m-bjorn")
    assert error.reason == "not_allowed"
    assert str(error) == f"Björn's membership is {status}: no bookings"


def test_a_member_outside_their_validity_may_not_book(store):
    members.change(store, "m-bjorn", MemberChange(valid_until=NOW), ACTOR)
    error = refused(store, local(1, 10), member="m-bjorn")
    assert (error.reason, str(error)) == (
        "not_allowed",
        "Björn's membership has ended: no bookings",
    )
    members.change(
        store, "m-bjorn", MemberChange(valid_from=local(2, 0), valid_until=local(9, 0)), ACTOR
    )
    error = refused(store, local(1, 10), member="m-bjorn")
    assert "has not started yet" in str(error)


def test_a_booking_may_start_in_the_grace_minutes_but_not_before(store):
    assert book(store, NOW - timedelta(minutes=5)).starts_at == NOW - timedelta(minutes=5)
    error = refused(store, NOW - timedelta(minutes=6), room="oasis")
    assert error.reason == "too_late"
    assert str(error) == "Too late to book Oasis from 07:54: it starts in the past"


def test_an_hour_past_midnight_rates_and_holidays_come_from_the_store(store):
    with store.write() as db:
        db.execute("INSERT INTO holidays (day, name) VALUES ('2026-12-24', 'Julafton')")
    holiday = book(store, local(24, 10))
    assert (holiday.office_minutes, holiday.off_hours_minutes, holiday.amount_cents) == (
        0,
        60,
        9000,
    )
    ordinary = book(store, local(23, 10))
    assert (ordinary.office_minutes, ordinary.amount_cents) == (60, 6000)


def test_the_stored_price_and_organisation_never_change_afterwards(store):
    booking = book(store, local(1, 10))
    with store.write() as db:
        db.execute("UPDATE rooms SET hourly_rate_cents = 12000 WHERE id = 'lookout'")
    organisations.add(store, OrganisationIn(name="Ekorre AB", id="o-ekorre"), ACTOR)
    members.change(store, "m-asa", MemberChange(organisation="o-ekorre"), ACTOR)
    again = bookings.get(store, booking.id)
    assert (again.amount_cents, again.organisation_id) == (6000, "o-skog")
    later = book(store, local(1, 12))
    assert (later.amount_cents, later.organisation_id) == (12000, "o-ekorre")


# --- clashes --------------------------------------------------------------------------


def test_back_to_back_bookings_are_fine(store):
    middle = book(store, local(1, 10))
    before = book(store, local(1, 9))
    after = book(store, local(1, 11), 30)
    found = bookings.of_room(store, "lookout", since=NOW, until=local(2, 0))
    assert [b.id for b in found] == [before.id, middle.id, after.id]


@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        (local(1, 10, 15), 30),  # inside
        (local(1, 9), 180),  # covering
        (local(1, 9, 30), 60),  # straddling the start
        (local(1, 10, 30), 60),  # straddling the end
        (local(1, 10), 60),  # identical
        (local(1, 10), 15),  # same start, shorter
        (local(1, 10, 45), 15),  # same end, shorter
    ],
)
def test_an_overlap_of_any_shape_is_refused_naming_the_local_times(store, start, minutes):
    book(store, local(1, 10))
    before = footprint(store)
    error = refused(store, start, minutes, member="m-bjorn")
    assert error.reason == "room_taken"
    assert str(error) == "Lookout is booked from 10:00 to 11:00"
    assert footprint(store) == before


def test_the_clash_names_a_time_on_another_day_with_its_date(store):
    book(store, local(1, 22), 240)  # 22:00 to 02:00
    error = refused(store, local(2, 1), 60, member="m-bjorn")
    assert str(error) == "Lookout is booked from 2026-12-01 22:00 to 02:00"


def test_the_message_names_no_one(store):
    book(store, local(1, 10))
    message = str(refused(store, local(1, 10), member="m-bjorn"))
    for name in ("Åsa", "Test", "Skogsbyrån", "m-asa"):
        assert name not in message


def test_another_room_at_the_same_time_is_fine(store):
    book(store, local(1, 10))
    assert book(store, local(1, 10), room="oasis", member="m-bjorn").room_id == "oasis"


def test_a_cancelled_booking_does_not_block(store):
    first = book(store, local(1, 10))
    bookings.cancel(store, first.id, actor=ACTOR, now=NOW)
    assert book(store, local(1, 10), member="m-bjorn").status == "booked"


def add_event_reservation(store: Store, start: datetime, end: datetime) -> str:
    """An event in the Lookout with its room reservation, as ``hub_server.events`` stores them."""
    stamp = now_text(NOW)
    with store.write() as db:
        db.execute(
            "INSERT INTO events (id, title, host_member_id, room_id, starts_at, ends_at, capacity,"
            " created_by, created_at, updated_at) VALUES ('ev-1', 'Forest yoga', 'm-sigrid',"
            " 'lookout', ?, ?, 12, 'test', ?, ?)",
            (now_text(start), now_text(end), stamp, stamp),
        )
        db.execute(
            "INSERT INTO bookings (id, room_id, member_id, event_id, starts_at, ends_at, source,"
            " created_by, created_at) VALUES ('b-0000000000e1', 'lookout', 'm-sigrid', 'ev-1',"
            " ?, ?, 'event', 'test', ?)",
            (now_text(start), now_text(end), stamp),
        )
    return "b-0000000000e1"


def test_an_events_reservation_blocks_the_room_and_is_cancelled_with_the_event(store):
    reservation = add_event_reservation(store, local(1, 14), local(1, 16))
    error = refused(store, local(1, 15), 60)
    assert (error.reason, str(error)) == ("room_taken", "Lookout is booked from 14:00 to 16:00")
    with pytest.raises(Invalid) as caught:
        bookings.cancel(store, reservation, actor=ACTOR, now=NOW)
    assert caught.value.problem == "reserves the room for an event: cancel the event instead"
    assert bookings.get(store, reservation).status == "booked"


def test_the_trigger_refuses_a_clash_the_check_missed(store, monkeypatch):
    book(store, local(1, 10))
    before = footprint(store)
    monkeypatch.setattr(bookings, "_refuse_clash", lambda *args: None)
    error = refused(store, local(1, 10, 30), member="m-bjorn")
    assert (error.reason, str(error)) == ("room_taken", "Lookout is already booked then")
    assert footprint(store) == before


def test_no_refusal_writes_anything(store):
    book(store, local(1, 10))
    members.change(store, "m-bjorn", MemberChange(status="suspended"), ACTOR)
    before = footprint(store)
    for values in (
        {"start": local(1, 10, 30)},  # room_taken
        {"start": local(1, 7)},  # too_late
        {"start": local(1, 12), "member": "m-bjorn"},  # not_allowed
    ):
        refused(store, **values)
    for call in (
        lambda: book(store, local(1, 12), 50),
        lambda: book(store, local(1, 12), room="attic"),
    ):
        with pytest.raises((Invalid, NotFound)):
            call()
    assert footprint(store) == before


# --- repeated requests -----------------------------------------------------------------


def test_a_repeated_request_id_returns_the_first_booking(store):
    first = book(store, local(1, 10), request_id="019abc12-3456-7def-8123-456789abcdef")
    before = footprint(store)
    again = book(store, local(1, 13), request_id="019abc12-3456-7def-8123-456789abcdef")
    assert again == first
    assert footprint(store) == before
    assert audit.entries(store, limit=1)[0].detail["request_id"] == (
        "019abc12-3456-7def-8123-456789abcdef"
    )


def test_a_refused_request_can_be_retried(store):
    book(store, local(1, 10))
    refused(store, local(1, 10), request_id="r-1", member="m-bjorn")
    assert book(store, local(1, 11), request_id="r-1", member="m-bjorn").starts_at == local(1, 11)


def test_a_request_id_must_be_short(store):
    with pytest.raises(Invalid) as caught:
        book(store, local(1, 10), request_id="x" * 101)
    assert caught.value.field == "request_id"


# --- cancelling ------------------------------------------------------------------------


def test_cancel_before_the_start_keeps_the_row_and_audits(store):
    booking = book(store, local(1, 10))
    at = local(1, 9, 59)
    cancelled = bookings.cancel(store, booking.id, actor=ACTOR, now=at)
    assert (cancelled.status, cancelled.cancelled_at) == ("cancelled", at)
    assert cancelled.amount_cents == booking.amount_cents  # kept, just no longer billed
    entry = audit.entries(store, limit=1)[0]
    assert (entry.action, entry.target) == ("booking.cancel", booking.id)
    before = footprint(store)
    assert bookings.cancel(store, booking.id, actor=ACTOR, now=at) == cancelled  # again: no-op
    assert footprint(store) == before


def test_a_started_booking_cannot_be_cancelled(store):
    booking = book(store, local(1, 10))
    before = footprint(store)
    with pytest.raises(Refused) as caught:
        bookings.cancel(store, booking.id, actor=ACTOR, now=local(1, 10))
    assert caught.value.reason == "too_late"
    assert str(caught.value) == "The booking of Lookout has started: it can no longer be cancelled"
    assert footprint(store) == before
    assert bookings.get(store, booking.id).status == "booked"


def test_cancelling_an_unknown_booking_is_not_found(store):
    with pytest.raises(NotFound, match="no booking 'b-000000000000'"):
        bookings.cancel(store, "b-000000000000", actor=ACTOR, now=NOW)
    with pytest.raises(NotFound):
        bookings.get(store, "b-000000000000")


# --- queries ---------------------------------------------------------------------------


def test_of_room_of_member_and_of_day(store):
    late = book(store, local(1, 23, 30))  # to 00:30 on the 2nd
    morning = book(store, local(2, 9), room="oasis", member="m-bjorn")
    gone = book(store, local(2, 10))
    bookings.cancel(store, gone.id, actor=ACTOR, now=NOW)

    def ids(found: list[bookings.Booking]) -> list[str]:
        return [b.id for b in found]

    assert ids(bookings.of_day(store, date(2026, 12, 1), TZ)) == [late.id]
    assert ids(bookings.of_day(store, date(2026, 12, 2), TZ)) == [late.id, morning.id]
    with_cancelled = bookings.of_day(store, date(2026, 12, 2), TZ, include_cancelled=True)
    assert ids(with_cancelled) == [late.id, gone.id, morning.id]  # Lookout first, by start
    assert ids(bookings.of_day(store, date(2026, 12, 3), TZ)) == []
    assert ids(bookings.of_room(store, "oasis", since=NOW, until=local(3, 0))) == [morning.id]
    assert ids(bookings.of_member(store, "m-asa", since=NOW, until=local(3, 0))) == [late.id]
    assert ids(
        bookings.of_member(store, "m-asa", since=NOW, until=local(3, 0), include_cancelled=True)
    ) == [late.id, gone.id]
    # the bounds are half open: a booking ending at `since` or starting at `until` is outside
    assert ids(bookings.of_room(store, "oasis", since=local(2, 10), until=local(3, 0))) == []
    assert ids(bookings.of_room(store, "oasis", since=NOW, until=local(2, 9))) == []
    with pytest.raises(Invalid):
        bookings.of_room(store, "oasis", since=local(2, 9), until=local(2, 9))


# --- room windows ----------------------------------------------------------------------


def windows(store: Store, now: datetime) -> dict[str, RoomWindow]:
    return bookings.room_windows(store, now)


def test_windows_of_rooms_with_nothing_booked(store):
    assert windows(store, NOW) == {
        "lookout": RoomWindow(None, None),
        "oasis": RoomWindow(None, None),
    }


def test_a_run_of_back_to_back_bookings_and_the_next_one_after_it(store):
    book(store, local(1, 9))
    book(store, local(1, 10), 90)  # to 11:30
    book(store, local(1, 11, 30), 30)  # to 12:00
    book(store, local(1, 13), member="m-bjorn")
    at = local(1, 9, 30)
    assert windows(store, at)["lookout"] == RoomWindow(local(1, 12), local(1, 13))
    assert windows(store, local(1, 12))["lookout"] == RoomWindow(None, local(1, 13))
    assert windows(store, local(1, 13))["lookout"] == RoomWindow(local(1, 14), None)
    assert windows(store, at)["oasis"] == RoomWindow(None, None)


def test_a_gap_ends_the_run(store):
    book(store, local(1, 9))
    book(store, local(1, 10, 15))
    assert windows(store, local(1, 9))["lookout"] == RoomWindow(local(1, 10), local(1, 10, 15))
    assert windows(store, local(1, 8))["lookout"] == RoomWindow(None, local(1, 9))


def test_windows_look_a_day_ahead_and_ignore_cancelled_bookings(store):
    book(store, local(2, 8, 15))  # more than 24 h after 08:00 on the 1st
    cancelled = book(store, local(1, 12))
    bookings.cancel(store, cancelled.id, actor=ACTOR, now=NOW)
    assert windows(store, NOW)["lookout"] == RoomWindow(None, None)
    assert windows(store, local(1, 8, 30))["lookout"] == RoomWindow(None, local(2, 8, 15))


def test_windows_include_a_days_long_event_reservation_and_work_inside_a_write(store):
    add_event_reservation(store, local(28, 9, month=11), local(1, 16))  # three days long
    assert bookings.get(store, "b-0000000000e1").minutes == (3 * 24 + 7) * 60
    book(store, local(1, 16))
    with store.write() as db:
        inside = bookings.room_windows(db, local(1, 15))
    assert inside["lookout"] == RoomWindow(local(1, 17), None)
    assert bookings.room_windows(store.read(), local(1, 15)) == inside


# --- the CLI ---------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch) -> Any:
    for name in list(os.environ):
        if name.startswith("HUBTAP_"):
            monkeypatch.delenv(name)
    config = tmp_path / "hub.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[site]\nid = "testsite"\n[hub]\ntimezone = "{TZ}"\n'
    )
    with Store.in_folder(tmp_path / "data") as s:
        seed(s)
        places.add_room(s, build(RoomIn, id="lookout", name="Lookout", capacity=8,
                                 hourly_rate_cents=6000), ACTOR)  # fmt: skip

    parser = argparse.ArgumentParser(prog="hubtap")
    cli_bookings.add_commands(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str) -> int:
        args = parser.parse_args([*argv, "--config", str(config)])
        return int(args.run(args))

    return run


def test_the_cli_books_lists_and_cancels(cli, capsys, tmp_path):
    assert cli("bookings", "add", "lookout", "m-asa", "--start", "2031-12-02 10:00",
               "--minutes", "60") == 0  # fmt: skip
    booking_id = capsys.readouterr().out.strip()
    assert booking_id.startswith("b-")
    assert cli("bookings", "list", "--day", "2031-12-02", "--room", "lookout") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["ID", "ROOM", "START", "END", "MEMBER", "ORGANISATION", "AMOUNT",
                                "SOURCE"]  # fmt: skip
    assert table[1].split() == [booking_id, "Lookout", "2031-12-02", "10:00", "2031-12-02",
                                "11:00", "Åsa", "Test", "-", "60.00", "cli"]  # fmt: skip
    with Store.in_folder(tmp_path / "data") as s:
        assert bookings.get(s, booking_id).starts_at == datetime(2031, 12, 2, 9, tzinfo=UTC)
    assert cli("bookings", "add", "lookout", "m-bjorn", "--start", "2031-12-02 10:30",
               "--minutes", "30") == 1  # fmt: skip
    assert capsys.readouterr().err == "hubtap: Lookout is booked from 10:00 to 11:00\n"
    assert cli("bookings", "cancel", booking_id) == 0
    assert capsys.readouterr().out == f"booking {booking_id} of Lookout is cancelled\n"
    assert cli("bookings", "list", "--day", "2031-12-02") == 0
    assert len(capsys.readouterr().out.splitlines()) == 1  # the header only


def test_the_cli_says_what_is_wrong(cli, capsys):
    assert cli("bookings", "add", "lookout", "m-asa", "--start", "2031-12-02 10:00",
               "--minutes", "50") == 1  # fmt: skip
    assert "must be a whole number of 15 minutes" in capsys.readouterr().err
    assert cli("bookings", "add", "lookout", "m-asa", "--start", "tomorrow", "--minutes", "60") == 1
    assert "--start" in capsys.readouterr().err
    assert cli("bookings", "list", "--day", "2031-13-01") == 1
    assert "is not a date" in capsys.readouterr().err
    assert cli("bookings", "billing", "2031-13") == 1
    assert "no month 13" in capsys.readouterr().err


def test_the_cli_writes_the_billing_csv(cli, capsys, tmp_path):
    assert cli("bookings", "add", "lookout", "m-asa", "--start", "2031-12-31 23:30",
               "--minutes", "60") == 0  # fmt: skip
    booking_id = capsys.readouterr().out.strip()
    assert cli("bookings", "billing", "2031-12") == 0
    assert capsys.readouterr().out.splitlines() == [
        "month,organisation_id,organisation,bookings,office_minutes,off_hours_minutes,amount",
        "2031-12,,No organisation,1,0,60,60.00",
    ]
    assert cli("bookings", "billing", "2032-01") == 0
    assert len(capsys.readouterr().out.splitlines()) == 1  # it started in December
    out = tmp_path / "detail.csv"
    assert cli("bookings", "billing", "2031-12", "--detail", "--output", str(out)) == 0
    assert capsys.readouterr().err == f"billing for 2031-12 written to {out}\n"
    assert out.read_bytes().decode("utf-8").splitlines()[1] == (
        f"2031-12-31,23:30,00:30,Lookout,Åsa Test,,No organisation,0,60,60.00,{booking_id}"
    )
    assert cli("bookings", "billing", "2031-12", "--output", str(tmp_path / "no" / "x.csv")) == 1
    assert "cannot write" in capsys.readouterr().err
