"""The idle screen's content: zones, rooms, today's events, open or closed, the clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hublink.messages import Level, RoomFill, UpcomingEvent
from kiosk.feeds import Snapshot
from kiosk.i18n import N_, Translator, capitalised
from kiosk.views import EventLine, IdleView, PlaceFill, RoomLine

LEVEL_TEXT: dict[Level, str] = {
    "green": N_("Room to work"),
    "amber": N_("Filling up"),
    "red": N_("Full"),
}


def idle_view(
    snapshot: Snapshot,
    now: datetime,
    zone: ZoneInfo,
    t: Translator,
    *,
    title: str,
    waiting: int = 0,
) -> IdleView:
    """What the idle screen shows at ``now`` (UTC) from the hub's data the kiosk has."""
    local = now.astimezone(zone)
    occupancy = snapshot.occupancy
    zones = tuple(
        PlaceFill(
            name=z.name,
            count_text=f"{z.count} / {z.capacity}",
            level=z.level,
            level_text=t._(LEVEL_TEXT[z.level]),
            share=min(1.0, z.count / z.capacity) if z.capacity else 1.0 if z.count else 0.0,
        )
        for z in (occupancy.zones if occupancy else ())
    )
    rooms = tuple(room_line(r, now, zone, t) for r in (occupancy.rooms if occupancy else ()))
    events = tuple(
        event_line(e, now, zone, t)
        for e in sorted(snapshot.events.events if snapshot.events else (), key=_start)
        if e.ends_at > now and e.starts_at.astimezone(zone).date() == local.date()
    )
    present = occupancy.site.count if occupancy else 0
    return IdleView(
        title=title,
        clock=t.clock(local),
        date=t.date(local),
        open=occupancy.open if occupancy else None,
        open_text=_open_text(occupancy.open if occupancy else None, t),
        offline_text=offline_text(snapshot, zone, t),
        zones=zones,
        zones_heading=t.ngettext("{n} person here now", "{n} people here now", present).format(
            n=present
        )
        if occupancy
        else t._("Zones"),
        rooms=rooms,
        rooms_heading=t._("Rooms") if rooms else "",
        events=events,
        events_heading=t._("Today's events") if events else "",
        empty_text="" if occupancy else t._("Waiting for the hub…"),
        waiting_text=t.ngettext(
            "{n} request waiting for the hub", "{n} requests waiting for the hub", waiting
        ).format(n=waiting)
        if waiting
        else "",
        hint=t._("Tap your card to check in, sign up or book a room"),
    )


def offline_text(snapshot: Snapshot, zone: ZoneInfo, t: Translator) -> str:
    """Empty while the hub is reachable; else what the screen is showing instead."""
    if snapshot.online:
        return ""
    if snapshot.last_heard is None:
        return t._("Offline — no news from the hub yet")
    return t._("Offline — showing what the hub said at {time}").format(
        time=t.clock(snapshot.last_heard.astimezone(zone))
    )


def room_line(room: RoomFill, now: datetime, zone: ZoneInfo, t: Translator) -> RoomLine:
    """A room's status: booked until when, in use, or free (until its next booking)."""
    booked = room.booked_until is not None and room.booked_until > now
    upcoming = room.next_booking_at if room.next_booking_at and room.next_booking_at > now else None
    next_text = (
        t._("Next booking {time}").format(time=_when(upcoming, now, zone, t)) if upcoming else ""
    )
    if booked:
        assert room.booked_until is not None
        status = t._("Booked until {time}").format(time=_when(room.booked_until, now, zone, t))
        return RoomLine(room.name, status, free=False, next_text=next_text)
    if room.count > 0:
        return RoomLine(room.name, t._("In use"), free=False, next_text=next_text)
    if upcoming:
        status = t._("Free until {time}").format(time=_when(upcoming, now, zone, t))
        return RoomLine(room.name, status, free=True)
    return RoomLine(room.name, t._("Free"), free=True)


def event_line(event: UpcomingEvent, now: datetime, zone: ZoneInfo, t: Translator) -> EventLine:
    """An event's time, title and seats."""
    return EventLine(
        event_id=event.event_id,
        time_text=time_span(event.starts_at, event.ends_at, zone, t),
        title=event.title,
        seats_text=seats_text(event, t),
        full=free_seats(event) == 0,
    )


def free_seats(event: UpcomingEvent) -> int:
    """Seats not taken (guests count)."""
    return max(0, event.capacity - event.taken)


def seats_text(event: UpcomingEvent, t: Translator) -> str:
    """``3 seats left``, or full with the waitlist's length."""
    free = free_seats(event)
    if free:
        return t.ngettext("{n} seat left", "{n} seats left", free).format(n=free)
    if event.waitlist:
        return t.ngettext(
            "Full · {n} on the waitlist", "Full · {n} on the waitlist", event.waitlist
        ).format(n=event.waitlist)
    return t._("Full · join the waitlist")


def time_span(start: datetime, end: datetime, zone: ZoneInfo, t: Translator) -> str:
    """``14:30–16:00`` in local time."""
    return f"{t.clock(start.astimezone(zone))}–{t.clock(end.astimezone(zone))}"


def day_and_time(start: datetime, end: datetime, now: datetime, zone: ZoneInfo,
                 t: Translator) -> str:  # fmt: skip
    """``Today 14:30–16:00``, ``Tomorrow …`` or ``Friday …`` (local dates)."""
    today = now.astimezone(zone).date()
    day = start.astimezone(zone).date()
    if day == today:
        label = t._("Today")
    elif day == today + timedelta(days=1):
        label = t._("Tomorrow")
    else:
        label = capitalised(t.weekday(start.astimezone(zone)))
    return f"{label} {time_span(start, end, zone, t)}"


def _when(moment: datetime, now: datetime, zone: ZoneInfo, t: Translator) -> str:
    """A time today as ``15:00``; on another day with the weekday."""
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return t.clock(local)
    return f"{t.weekday(local)} {t.clock(local)}"


def _open_text(open_now: bool | None, t: Translator) -> str:
    if open_now is None:
        return ""
    return t._("Open") if open_now else t._("Closed")


def _start(event: UpcomingEvent) -> datetime:
    return event.starts_at
