"""What each screen shows, as plain data: every text already worded and translated.

The Kivy screens (``kiosk/ui``) only lay these out; every button carries
an ``id`` that goes back to :meth:`kiosk.model.KioskModel.press`. Nothing
here imports Kivy, so the screens' content is tested without a display.
"""

from dataclasses import dataclass, field
from typing import Literal

from hublink.messages import Level


@dataclass(frozen=True)
class Button:
    """A touch target: ``id`` is what the model is told when it is pressed."""

    id: str
    label: str
    detail: str = ""
    enabled: bool = True
    style: Literal["primary", "normal", "quiet", "danger"] = "normal"


@dataclass(frozen=True)
class PlaceFill:
    """One zone's occupancy: count against capacity, and its level in words too."""

    name: str
    count_text: str
    level: Level
    level_text: str
    share: float
    """Count over capacity, 0-1 (for a bar)."""


@dataclass(frozen=True)
class RoomLine:
    """A bookable room: free, or in use until when, and its next booking."""

    name: str
    status_text: str
    free: bool
    next_text: str = ""


@dataclass(frozen=True)
class EventLine:
    """An event today with its free seats."""

    event_id: str
    time_text: str
    title: str
    seats_text: str
    full: bool


@dataclass(frozen=True)
class IdleView:
    """The idle screen: the hub at a glance."""

    kind: Literal["idle"] = field(default="idle", init=False)
    title: str = ""
    clock: str = ""
    date: str = ""
    open_text: str = ""
    open: bool | None = None
    offline_text: str = ""
    """Empty while the hub is reachable."""
    zones: tuple[PlaceFill, ...] = ()
    zones_heading: str = ""
    rooms: tuple[RoomLine, ...] = ()
    rooms_heading: str = ""
    events: tuple[EventLine, ...] = ()
    events_heading: str = ""
    empty_text: str = ""
    """Shown where there is nothing to show yet (no occupancy received)."""
    waiting_text: str = ""
    """Requests still waiting for the hub, as a count."""
    hint: str = ""


@dataclass(frozen=True)
class BadgeView:
    """The greeting after a granted tap: a first name, the member's day, what they can do."""

    kind: Literal["badge"] = field(default="badge", init=False)
    greeting: str = ""
    subtitle: str = ""
    agenda_heading: str = ""
    agenda: tuple[str, ...] = ()
    earlier: tuple[str, ...] = ()
    """Answers to requests made earlier, which came while the member was away."""
    actions: tuple[Button, ...] = ()
    offline_text: str = ""


@dataclass(frozen=True)
class DeniedView:
    """A refused tap: a friendly reason that names no one."""

    kind: Literal["denied"] = field(default="denied", init=False)
    title: str = ""
    message: str = ""
    actions: tuple[Button, ...] = ()


@dataclass(frozen=True)
class ChoiceView:
    """One step of an action: pick one of ``options``."""

    kind: Literal["choice"] = field(default="choice", init=False)
    title: str = ""
    prompt: str = ""
    options: tuple[Button, ...] = ()
    empty_text: str = ""
    """Shown when there is nothing to pick."""
    actions: tuple[Button, ...] = ()


@dataclass(frozen=True)
class NameEntryView:
    """Typing a first name on big on-screen keys; no keyboard needed."""

    kind: Literal["name_entry"] = field(default="name_entry", init=False)
    title: str = ""
    prompt: str = ""
    text: str = ""
    placeholder: str = ""
    keys: tuple[tuple[Button, ...], ...] = ()
    actions: tuple[Button, ...] = ()


@dataclass(frozen=True)
class ConfirmView:
    """The last step of an action: what will happen, to confirm or cancel."""

    kind: Literal["confirm"] = field(default="confirm", init=False)
    title: str = ""
    lines: tuple[str, ...] = ()
    warning: str = ""
    """Something the member should know before confirming (going on a waitlist)."""
    actions: tuple[Button, ...] = ()


@dataclass(frozen=True)
class AnswerView:
    """An action sent: waiting for the hub, or its answer."""

    kind: Literal["answer"] = field(default="answer", init=False)
    title: str = ""
    message: str = ""
    state: Literal["waiting", "queued", "done", "refused"] = "waiting"
    actions: tuple[Button, ...] = ()


ScreenView = (
    IdleView | BadgeView | DeniedView | ChoiceView | NameEntryView | ConfirmView | AnswerView
)
