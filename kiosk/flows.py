"""The actions a member takes by tap, each a few steps ending in one request to the hub.

A flow shows one view at a time and is told which button was pressed. It
answers with :data:`STAY` (its view changed or not), :data:`LEAVE` (back to
the member's badge) or a :class:`Submit`: the request to send, with the
words the answer will need (an event's title, a room's name).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from hublink.messages import AgendaItem, RoomFill, Scalar, UpcomingEvent
from kiosk.feeds import Snapshot
from kiosk.i18n import Translator
from kiosk.idle_view import day_and_time, free_seats, seats_text, time_span
from kiosk.views import Button, ChoiceView, ConfirmView, NameEntryView, ScreenView

SIGNUP_DAYS = 7
"""Events this many days ahead can be signed up for at the kiosk."""
MAX_OPTIONS = 8
BOOKING_HOURS = (1, 2, 3)
NAME_MAX = 40
KEY_ROWS = ("QWERTYUIOPÅ", "ASDFGHJKLÖÄ", "ZXCVBNMØÆ-")


@dataclass(frozen=True)
class Visitor:
    """Who tapped: their card hash and, from the directory, first names only."""

    credential: str
    member_id: str | None
    first_name: str | None
    host_first_name: str | None = None

    @property
    def guest(self) -> bool:
        """True for a guest's day pass."""
        return self.host_first_name is not None


@dataclass(frozen=True)
class Context:
    """What a flow needs to word its screens."""

    t: Translator
    now: datetime
    zone: ZoneInfo
    snapshot: Snapshot
    visitor: Visitor
    agenda: tuple[AgendaItem, ...] = ()


@dataclass(frozen=True)
class Submit:
    """Send ``action`` with ``params``; ``values`` word the answer on screen."""

    action: Literal["check_out", "signup", "cancel_signup", "guest", "booking"]
    params: dict[str, Scalar]
    values: dict[str, str | int] = field(default_factory=dict)


STAY: Literal["stay"] = "stay"
LEAVE: Literal["leave"] = "leave"
Outcome = Literal["stay", "leave"] | Submit


def back_button(t: Translator) -> Button:
    """Every step's way back."""
    return Button("back", t._("Back"), style="quiet")


class Flow(ABC):
    """One action, step by step."""

    @abstractmethod
    def view(self, ctx: Context) -> ScreenView:
        """The current step."""

    @abstractmethod
    def press(self, button: str, ctx: Context) -> Outcome:
        """React to a button; unknown buttons change nothing."""

    def card(self, credential: str, known: bool) -> bool:
        """A card was tapped during this flow: True if the flow takes it (a guest's card);
        False, the default, and the tap greets its holder as usual. ``known``: the card
        belongs to someone already."""
        return False


def _prefixed(button: str, prefix: str) -> str | None:
    return button[len(prefix) :] if button.startswith(prefix) else None


class SignupFlow(Flow):
    """Pick an event, how many colleagues come along, confirm."""

    def __init__(self) -> None:
        self.event_id: str | None = None
        self.guests: int | None = None

    def _event(self, ctx: Context) -> UpcomingEvent | None:
        return next((e for e in open_events(ctx) if e.event_id == self.event_id), None)

    def view(self, ctx: Context) -> ScreenView:
        t = ctx.t
        event = self._event(ctx)
        if event is None:
            mine = {a.ref for a in ctx.agenda if a.kind in ("signup", "waitlist")}
            options = tuple(
                Button(
                    f"event:{e.event_id}",
                    e.title,
                    f"{day_and_time(e.starts_at, e.ends_at, ctx.now, ctx.zone, t)} · "
                    + (t._("You are signed up") if e.event_id in mine else seats_text(e, t)),
                    enabled=e.event_id not in mine,
                )
                for e in open_events(ctx)[:MAX_OPTIONS]
            )
            return ChoiceView(
                title=t._("Sign up for an event"),
                prompt=t._("Which event?"),
                options=options,
                empty_text=t._("No events to sign up for this week."),
                actions=(back_button(t),),
            )
        if self.guests is None:
            return ChoiceView(
                title=event.title,
                prompt=t._("Are colleagues from your organisation coming along?"),
                options=tuple(
                    Button(f"guests:{n}", _company(n, t)) for n in range(event.max_guests + 1)
                ),
                actions=(back_button(t),),
            )
        lines = (
            event.title,
            day_and_time(event.starts_at, event.ends_at, ctx.now, ctx.zone, t),
            _company(self.guests, t),
        )
        short = free_seats(event) < 1 + self.guests
        return ConfirmView(
            title=t._("Sign up?"),
            lines=lines,
            warning=t._("Not enough seats left: you will go on the waitlist.") if short else "",
            actions=(Button("confirm", t._("Sign me up"), style="primary"), back_button(t)),
        )

    def press(self, button: str, ctx: Context) -> Outcome:
        event = self._event(ctx)
        if button == "back":
            if event is None:
                return LEAVE
            if self.guests is None or event.max_guests == 0:
                self.event_id, self.guests = None, None
            else:
                self.guests = None
            return STAY
        if event is None:
            chosen = _prefixed(button, "event:")
            found = next((e for e in open_events(ctx) if e.event_id == chosen), None)
            if found is not None:
                self.event_id = found.event_id
                if found.max_guests == 0:
                    self.guests = 0
            return STAY
        if self.guests is None:
            count = _prefixed(button, "guests:")
            if count is not None and count.isdigit() and int(count) <= event.max_guests:
                self.guests = int(count)
            return STAY
        if button == "confirm":
            return Submit(
                "signup",
                {"event_id": event.event_id, "guests": self.guests},
                {"title": event.title},
            )
        return STAY


class CancelSignupFlow(Flow):
    """Give back a place (or leave a waitlist) for an event on the member's day."""

    def __init__(self) -> None:
        self.item: AgendaItem | None = None

    def view(self, ctx: Context) -> ScreenView:
        t = ctx.t
        if self.item is None:
            return ChoiceView(
                title=t._("Cancel a sign-up"),
                prompt=t._("Which one?"),
                options=tuple(
                    Button(
                        f"event:{a.ref}",
                        a.title,
                        day_and_time(a.starts_at, a.ends_at, ctx.now, ctx.zone, t),
                    )
                    for a in signups(ctx.agenda)
                ),
                empty_text=t._("You have no sign-ups coming up."),
                actions=(back_button(t),),
            )
        return ConfirmView(
            title=t._("Cancel your place?"),
            lines=(
                self.item.title,
                day_and_time(self.item.starts_at, self.item.ends_at, ctx.now, ctx.zone, t),
            ),
            actions=(
                Button("confirm", t._("Cancel my place"), style="danger"),
                back_button(t),
            ),
        )

    def press(self, button: str, ctx: Context) -> Outcome:
        if button == "back":
            if self.item is None:
                return LEAVE
            self.item = None
            return STAY
        if self.item is None:
            chosen = _prefixed(button, "event:")
            self.item = next((a for a in signups(ctx.agenda) if a.ref == chosen), None)
            return STAY
        if button == "confirm":
            return Submit("cancel_signup", {"event_id": self.item.ref}, {"title": self.item.title})
        return STAY


class GuestFlow(Flow):
    """Type the guest's first name on big keys, tap the card they will carry (or go on
    without one), confirm: a day pass for today."""

    def __init__(self) -> None:
        self.text = ""
        self.step: Literal["name", "card", "confirm"] = "name"
        self.credential: str | None = None
        self.card_refused = False

    @property
    def name(self) -> str:
        """What was typed, tidied: single spaces, each word capitalised."""
        return " ".join(word[:1].upper() + word[1:].lower() for word in self.text.split())

    def view(self, ctx: Context) -> ScreenView:
        t = ctx.t
        if self.step == "card":
            return ConfirmView(
                title=t._("{guest}'s card").format(guest=self.name),
                lines=(
                    t._("Tap the card {guest} will carry today on the reader.").format(
                        guest=self.name
                    ),
                    t._("It opens the doors for {guest} until midnight.").format(guest=self.name),
                ),
                warning=t._("That card is already someone's. Please tap a visitor card.")
                if self.card_refused
                else "",
                actions=(Button("no_card", t._("Go on without a card")), back_button(t)),
            )
        if self.step == "confirm":
            card_line = (
                t._("With the card you tapped.")
                if self.credential
                else t._("Without a card: {guest} comes in with you.").format(guest=self.name)
            )
            return ConfirmView(
                title=t._("Register a guest?"),
                lines=(
                    t._("{guest} will be your guest today.").format(guest=self.name),
                    card_line,
                    t._("The day pass ends at midnight."),
                ),
                actions=(
                    Button("confirm", t._("Register {guest}").format(guest=self.name),
                           style="primary"),
                    back_button(t),
                ),
            )  # fmt: skip
        keys = tuple(tuple(Button(f"key:{k}", k) for k in row) for row in KEY_ROWS)
        keys += (
            (
                Button("key: ", t._("Space")),
                Button("backspace", t._("Delete"), enabled=bool(self.text)),
            ),
        )
        return NameEntryView(
            title=t._("Register a guest"),
            prompt=t._("Your guest's first name"),
            text=self.name,
            placeholder=t._("First name"),
            keys=keys,
            actions=(
                Button("continue", t._("Continue"), enabled=bool(self.name), style="primary"),
                back_button(t),
            ),
        )

    def card(self, credential: str, known: bool) -> bool:
        if self.step != "card":
            return False
        self.card_refused = known
        if not known:
            self.credential = credential
            self.step = "confirm"
        return True

    def press(self, button: str, ctx: Context) -> Outcome:
        if button == "back":
            if self.step == "name":
                return LEAVE
            self.step = "name" if self.step == "card" else "card"
            self.credential, self.card_refused = None, False
            return STAY
        if self.step == "card":
            if button == "no_card":
                self.step = "confirm"
            return STAY
        if self.step == "confirm":
            if button == "confirm":
                params: dict[str, Scalar] = {"first_name": self.name}
                if self.credential:
                    params["card"] = self.credential
                return Submit("guest", params, {"guest": self.name})
            return STAY
        key = _prefixed(button, "key:")
        if key is not None and len(key) == 1 and len(self.text) < NAME_MAX:
            if key != " " or (self.text and not self.text.endswith(" ")):
                self.text += key
        elif button == "backspace":
            self.text = self.text[:-1]
        elif button == "continue" and self.name:
            self.step = "card"
        return STAY


class BookingFlow(Flow):
    """Pick a room free now and for how long, confirm."""

    def __init__(self) -> None:
        self.room_id: str | None = None
        self.hours: int | None = None

    def _room(self, ctx: Context) -> RoomFill | None:
        return next((r for r in free_rooms(ctx) if r.room_id == self.room_id), None)

    def view(self, ctx: Context) -> ScreenView:
        t = ctx.t
        room = self._room(ctx)
        if room is None:
            options = []
            for r in free_rooms(ctx):
                fits = hours_that_fit(r, ctx.now)
                limit = r.next_booking_at
                detail = (
                    t._("Free until {time}").format(time=t.clock(limit.astimezone(ctx.zone)))
                    if limit and limit - ctx.now < timedelta(hours=BOOKING_HOURS[-1])
                    else t._("Free now")
                )
                options.append(Button(f"room:{r.room_id}", r.name, detail, enabled=bool(fits)))
            return ChoiceView(
                title=t._("Book a room now"),
                prompt=t._("Which room?"),
                options=tuple(options[:MAX_OPTIONS]),
                empty_text=t._("No room is free just now."),
                actions=(back_button(t),),
            )
        if self.hours is None:
            return ChoiceView(
                title=room.name,
                prompt=t._("For how long?"),
                options=tuple(
                    Button(
                        f"hours:{h}",
                        t.ngettext("{n} hour", "{n} hours", h).format(n=h),
                        t._("until {time}").format(time=self._until(ctx, h)),
                    )
                    for h in hours_that_fit(room, ctx.now)
                ),
                actions=(back_button(t),),
            )
        return ConfirmView(
            title=t._("Book {room}?").format(room=room.name),
            lines=(
                room.name,
                t._("From now until {time}").format(time=self._until(ctx, self.hours)),
            ),
            actions=(Button("confirm", t._("Book it"), style="primary"), back_button(t)),
        )

    def _until(self, ctx: Context, hours: int) -> str:
        return ctx.t.clock((ctx.now + timedelta(hours=hours)).astimezone(ctx.zone))

    def press(self, button: str, ctx: Context) -> Outcome:
        room = self._room(ctx)
        if button == "back":
            if room is None:
                return LEAVE
            if self.hours is None:
                self.room_id = None
            else:
                self.hours = None
            return STAY
        if room is None:
            chosen = _prefixed(button, "room:")
            found = next((r for r in free_rooms(ctx) if r.room_id == chosen), None)
            if found is not None and hours_that_fit(found, ctx.now):
                self.room_id = found.room_id
            return STAY
        if self.hours is None:
            hours = _prefixed(button, "hours:")
            if (
                hours is not None
                and hours.isdigit()
                and int(hours) in hours_that_fit(room, ctx.now)
            ):
                self.hours = int(hours)
            return STAY
        if button == "confirm":
            starts = ctx.now.replace(microsecond=0)
            return Submit(
                "booking",
                {"room_id": room.room_id, "starts_at": starts.isoformat(),
                 "minutes": self.hours * 60},
                {"room": room.name, "until": self._until(ctx, self.hours)},
            )  # fmt: skip
        return STAY


def open_events(ctx: Context) -> list[UpcomingEvent]:
    """Events not started yet within :data:`SIGNUP_DAYS`, soonest first."""
    horizon = ctx.now + timedelta(days=SIGNUP_DAYS)
    events = ctx.snapshot.events.events if ctx.snapshot.events else ()
    return sorted(
        (e for e in events if ctx.now < e.starts_at <= horizon), key=lambda e: e.starts_at
    )


def free_rooms(ctx: Context) -> list[RoomFill]:
    """Rooms with no booking running and nobody in them."""
    rooms = ctx.snapshot.occupancy.rooms if ctx.snapshot.occupancy else ()
    return [
        r for r in rooms if (r.booked_until is None or r.booked_until <= ctx.now) and r.count == 0
    ]


def hours_that_fit(room: RoomFill, now: datetime) -> tuple[int, ...]:
    """Whole hours from now that end by the room's next booking."""
    limit = room.next_booking_at
    if limit is None or limit <= now:
        return BOOKING_HOURS
    return tuple(h for h in BOOKING_HOURS if now + timedelta(hours=h) <= limit)


def signups(agenda: tuple[AgendaItem, ...]) -> tuple[AgendaItem, ...]:
    """The event places (and waitlist places) on a member's day."""
    return tuple(a for a in agenda if a.kind in ("signup", "waitlist"))


def agenda_lines(
    agenda: tuple[AgendaItem, ...], now: datetime, zone: ZoneInfo, t: Translator
) -> tuple[str, ...]:
    """A member's plans in a line per item: today's by time, later ones with their day."""
    lines = []
    today = now.astimezone(zone).date()
    for item in sorted(agenda, key=lambda a: a.starts_at):
        if item.starts_at.astimezone(zone).date() == today:
            span = time_span(item.starts_at, item.ends_at, zone, t)
        else:
            span = day_and_time(item.starts_at, item.ends_at, now, zone, t)
        if item.kind == "booking":
            lines.append(t._("{time} {room} is booked for you").format(time=span, room=item.title))
        elif item.kind == "waitlist":
            lines.append(
                t._("{time} {title} — number {position} on the waitlist").format(
                    time=span, title=item.title, position=item.position or "?"
                )
            )
        elif item.guests:
            lines.append(
                t.ngettext(
                    "{time} {title}, with {n} colleague", "{time} {title}, with {n} colleagues",
                    item.guests,
                ).format(time=span, title=item.title, n=item.guests)
            )  # fmt: skip
        else:
            lines.append(f"{span} {item.title}")
    return tuple(lines)


def _company(guests: int, t: Translator) -> str:
    if guests == 0:
        return t._("Just me")
    return t.ngettext("Me and {n} colleague", "Me and {n} colleagues", guests).format(n=guests)
