"""One widget per kind of screen, each laid out from its view and the window's metrics.

A screen is built once per view (and again when the window is resized);
it never changes the view and never talks to the model: its buttons call
``ui.press``. Landscape windows put things side by side, portrait ones
stack them; every list is cut to what fits.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.ui import theme
from kiosk.ui.theme import Metrics
from kiosk.ui.widgets import (
    Banner,
    Card,
    Emblem,
    LevelBar,
    Press,
    RowStack,
    Spacer,
    TileGrid,
    TouchButton,
    paint,
    text,
)
from kiosk.views import (
    AnswerView,
    BadgeView,
    Button,
    ChoiceView,
    ConfirmView,
    DeniedView,
    EventLine,
    IdleView,
    NameEntryView,
    PlaceFill,
    RoomLine,
    ScreenView,
)


@dataclass(frozen=True)
class Ui:
    """What every screen needs: the window's metrics and where presses go."""

    m: Metrics
    press: Press

    @property
    def content_width(self) -> float:
        """The width inside the screen's margins."""
        return self.m.width - 2 * self.m.margin


class Screen(BoxLayout):  # type: ignore[misc]
    """A whole screen: a column inside the margins."""

    def __init__(self, view: ScreenView, ui: Ui, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        super().__init__(padding=ui.m.margin, spacing=ui.m.gap, **kwargs)
        self.view = view
        self.ui = ui

    def update(self, view: ScreenView) -> bool:
        """Show ``view`` by changing this screen in place; False if it must be rebuilt."""
        return False


def hbox(m: Metrics, *children: Widget, height: float | None = None, **kwargs: Any) -> BoxLayout:
    """A row of ``children``; fixed ``height`` if given."""
    box = BoxLayout(orientation="horizontal", spacing=kwargs.pop("spacing", m.gap), **kwargs)
    if height is not None:
        box.size_hint_y, box.height = None, height
    for child in children:
        box.add_widget(child)
    return box


def vbox(m: Metrics, *children: Widget, height: float | None = None, **kwargs: Any) -> BoxLayout:
    """A column of ``children``; fixed ``height`` if given."""
    box = BoxLayout(orientation="vertical", spacing=kwargs.pop("spacing", 0), **kwargs)
    if height is not None:
        box.size_hint_y, box.height = None, height
    for child in children:
        box.add_widget(child)
    return box


def action_bar(actions: Sequence[Button], ui: Ui, *, centred: bool = False) -> BoxLayout:
    """The screen's bottom row: quiet buttons (Back) at the left, the others at the right;
    or all of them ``centred``."""
    m = ui.m
    widths = {"quiet": m.px(180), "main": m.px(250)}
    wanted = [widths["quiet" if a.style == "quiet" else "main"] for a in actions]
    shrink = min(1.0, (ui.content_width - len(actions) * m.gap) / max(1.0, sum(wanted)))
    widgets = []
    for button, width in zip(actions, wanted, strict=True):
        widget = TouchButton(button, m, ui.press)
        widget.size_hint_x, widget.width = None, width * shrink
        widgets.append(widget)
    quiet = [w for w in widgets if w.button.style == "quiet"]
    main = [w for w in widgets if w.button.style != "quiet"]
    row = [Spacer(), *quiet, *main, Spacer()] if centred else [*quiet, Spacer(), *main]
    return hbox(m, *row, height=m.button_height)


LIST_RATIO = 1.0
"""Names in lists keep one size (a long one is cut with an ellipsis) so rows look alike."""


# --- idle --------------------------------------------------------------------


HEADER = 62
FOOTER = {False: 30, True: 52}
"""The idle footer's height, landscape and portrait (the hint wraps in portrait)."""
ROW = 46
"""A room's or an event's row: a line in body type, one in small type (reference px)."""
SECOND_LINE = 20
ROW_GAP = 6
CARD_OVERHEAD = 2 * 12 + 26 + 8
"""A card's padding, heading and the space under it (reference px)."""
ZONE_TILE = 58


def share_rows(room: float, wants: Sequence[int], m: Metrics) -> list[int]:
    """How many rows each card shows when cards of :data:`ROW` rows share ``room`` px
    (one row each in turn, so a long list does not crowd out a short one)."""
    rows = [0] * len(wants)
    used = len(wants) * m.px(CARD_OVERHEAD) + max(0, len(wants) - 1) * m.gap
    grown = True
    while grown:
        grown = False
        for index, want in enumerate(wants):
            cost = m.px(ROW) + (m.px(ROW_GAP) if rows[index] else 0)
            if rows[index] < want and used + cost <= room:
                rows[index] += 1
                used += cost
                grown = True
    return rows


def card_height(rows: int, m: Metrics) -> float:
    """A list card's height with ``rows`` rows."""
    return m.px(CARD_OVERHEAD) + rows * m.px(ROW) + max(0, rows - 1) * m.px(ROW_GAP)


class IdleScreen(Screen):
    """The hub at a glance: clock, zones with their levels, rooms, today's events."""

    def __init__(self, view: IdleView, ui: Ui) -> None:
        super().__init__(view, ui)
        m = ui.m
        self.idle = view
        self.clock = text(
            view.clock, m, "clock", bold=True, halign="right", single_line=True, width=m.px(150)
        )
        self.date = text(view.date, m, "small", colour=theme.MUTED, single_line=True)
        title = text(view.title, m, "title", bold=True, single_line=True)
        head = [vbox(m, title, self.date)]
        if view.open_text:
            head.append(self._open_pill(view, m))
        head.append(self.clock)
        self.add_widget(hbox(m, *head, height=m.px(HEADER)))
        fixed = [m.px(HEADER), m.px(FOOTER[m.portrait])]
        if view.offline_text:
            banner = Banner(view.offline_text, m)
            fixed.append(banner.height)
            self.add_widget(banner)
        body_height = m.height - 2 * m.margin - sum(fixed) - len(fixed) * m.gap
        self.add_widget(self._body(view, m, body_height))
        self.add_widget(self._footer(view, m))

    def update(self, view: ScreenView) -> bool:
        """A new minute only changes the clock: no rebuild (the idle screen stays cheap)."""
        shown = self.idle
        if (
            not isinstance(view, IdleView)
            or replace(view, clock=shown.clock, date=shown.date) != shown
        ):
            return False
        self.clock.full_text, self.date.full_text = view.clock, view.date
        self.view = self.idle = view
        return True

    def _open_pill(self, view: IdleView, m: Metrics) -> Widget:
        colour = theme.LEVEL["green"] if view.open else theme.LEVEL["red"]
        pill = BoxLayout(
            size_hint=(None, None), size=(m.px(120), m.px(40)), padding=(m.px(10), m.px(4))
        )
        paint(pill, colour, radius=m.px(20))
        pill.add_widget(
            text(view.open_text, m, "body", bold=True, halign="center", single_line=True)
        )
        return vbox(m, Spacer(), pill, Spacer(), size_hint_x=None, width=m.px(120))

    def _body(self, view: IdleView, m: Metrics, height: float) -> Widget:
        """Zones at the left (or top); rooms and events share the rest, row by row."""
        zones = Card(m, view.zones_heading)
        grid = TileGrid(
            [zone_tile(z, m) for z in view.zones],
            m,
            tile_height=m.px(ZONE_TILE),
            min_width=m.px(180),
            max_cols=2,
            gap=m.px(8),
            more=zones.more,
            centre_last_row=False,
        )
        if view.zones:
            zones.add_widget(grid)
        else:
            zones.add_widget(text(view.empty_text, m, "body", colour=theme.MUTED, halign="center"))
        lists = [
            (view.rooms_heading, [room_row(r, m) for r in view.rooms]),
            (view.events_heading, [event_row(e, m) for e in view.events]),
        ]
        lists = [(heading, rows) for heading, rows in lists if rows]
        if not lists:
            return zones
        side_height = height
        if m.portrait:
            inner = self.ui.content_width - 2 * m.px(12)
            zones.size_hint_y = None
            zones.height = min(
                m.px(CARD_OVERHEAD) + grid.height_for(inner) if view.zones else m.px(120),
                height * 0.5,
            )
            side_height = height - zones.height - m.gap
        shown = share_rows(side_height, [len(rows) for _, rows in lists], m)
        cards = []
        for (heading, rows), count in zip(lists, shown, strict=True):
            card = Card(m, heading, size_hint_y=card_height(count, m))
            card.add_widget(RowStack(rows, m, spacing=m.px(ROW_GAP), more=card.more))
            cards.append(card)
        side = vbox(m, *cards, spacing=m.gap)
        if m.portrait:
            return vbox(m, zones, side, spacing=m.gap)
        zones.size_hint_x, side.size_hint_x = 0.56, 0.44
        return hbox(m, zones, side)

    def _footer(self, view: IdleView, m: Metrics) -> Widget:
        height = m.px(FOOTER[m.portrait])
        hint = text(view.hint, m, "body", colour=theme.MUTED, halign="center")
        if not view.waiting_text:
            return hbox(m, hint, height=height)
        waiting = text(view.waiting_text, m, "small", colour=theme.BUSY, halign="right")
        waiting.size_hint_x = 0.45
        return hbox(m, hint, waiting, height=height)


def zone_tile(zone: PlaceFill, m: Metrics) -> Widget:
    """A zone: its name; its bar; its level in words and its count."""
    name = text(zone.name, m, "body", bold=True, single_line=True, min_ratio=LIST_RATIO)
    bar = LevelBar(zone.share, zone.level, size_hint_y=None, height=m.px(10))
    level = text(
        zone.level_text,
        m,
        "small",
        colour=theme.LEVEL_TEXT[zone.level],
        bold=True,
        single_line=True,
    )
    count = text(
        zone.count_text,
        m,
        "small",
        colour=theme.MUTED,
        halign="right",
        single_line=True,
        width=m.px(60),
    )
    return vbox(
        m,
        name,
        vbox(m, Spacer(), bar, Spacer(), height=m.px(12)),
        hbox(m, level, count, height=m.px(20), spacing=m.px(4)),
        height=m.px(ZONE_TILE),
    )


def room_line_colour(room: RoomLine) -> theme.Rgba:
    """Free rooms in green words, taken ones in amber."""
    return theme.FREE if room.free else theme.BUSY


def room_row(room: RoomLine, m: Metrics) -> Widget:
    """A room: its name; below, free (until when) or booked, and its next booking."""
    name = text(room.name, m, "body", bold=True, single_line=True, min_ratio=LIST_RATIO)
    status = text(room.status_text, m, "small", colour=room_line_colour(room), single_line=True)
    line = hbox(m, status)
    if room.next_text:
        line.add_widget(
            text(room.next_text, m, "small", colour=theme.MUTED, halign="right", single_line=True)
        )
    return two_lines(name, line, m)


def two_lines(first: Widget, second: Widget, m: Metrics) -> Widget:
    """A list row of :data:`ROW` px: a name in body type over a line in small type."""
    first.size_hint_y, first.height = None, m.px(ROW - SECOND_LINE)
    second.size_hint_y, second.height = None, m.px(SECOND_LINE)
    return vbox(m, first, second, height=m.px(ROW))


def event_row(event: EventLine, m: Metrics) -> Widget:
    """An event today: its title; below, when and how many seats are left."""
    title = text(event.title, m, "body", bold=True, single_line=True, min_ratio=LIST_RATIO)
    when = text(event.time_text, m, "small", colour=theme.MUTED, single_line=True, width=m.px(100))
    seats = text(
        event.seats_text,
        m,
        "small",
        colour=theme.BUSY if event.full else theme.FREE,
        single_line=True,
    )
    return two_lines(title, hbox(m, when, seats), m)


# --- badge -------------------------------------------------------------------


class BadgeScreen(Screen):
    """The greeting in large type, the member's day, and what they can do."""

    def __init__(self, view: BadgeView, ui: Ui) -> None:
        super().__init__(view, ui)
        m = ui.m
        if view.offline_text:
            self.add_widget(Banner(view.offline_text, m))
        notes = list(view.earlier) + list(view.agenda)
        side_by_side = bool(notes) and not m.portrait
        actions_width = ui.content_width * (0.58 if side_by_side else 1.0)
        tiles = [TouchButton(b, m, ui.press) for b in view.actions]
        grid = TileGrid(tiles, m, tile_height=m.button_height, min_width=m.px(200), max_cols=3)
        grid.size_hint_y, grid.height = None, grid.height_for(actions_width)
        self.greeting = text(
            view.greeting, m, "title", bold=True, halign="center", single_line=True, min_ratio=0.2
        )
        self.greeting.max_font = m.px(150)
        head = [self.greeting]
        if view.subtitle:
            head.append(
                text(
                    view.subtitle,
                    m,
                    "body",
                    colour=theme.MUTED,
                    halign="center",
                    single_line=True,
                    height=m.px(30),
                )
            )
        greeting = vbox(m, *head)
        self.add_widget(greeting)
        if not notes:
            self.add_widget(grid)
            return
        card = Card(m, view.agenda_heading)
        lines = [note_row(line, m, earlier=True) for line in view.earlier]
        lines += [note_row(line, m) for line in view.agenda]
        card.add_widget(RowStack(lines, m, spacing=m.px(6), more=card.more))
        if side_by_side:
            card.size_hint_x = 0.42
            holder = vbox(m, grid, Spacer(), size_hint_x=0.58)
            self.add_widget(hbox(m, card, holder, height=max(grid.height, m.px(170))))
        else:  # stacked: the greeting keeps what it needs, the day gets the rest
            greeting.size_hint_y, greeting.height = (
                None,
                m.px(150) + (m.px(30) if view.subtitle else 0),
            )
            self.add_widget(card)
            self.add_widget(grid)


def note_row(line: str, m: Metrics, *, earlier: bool = False) -> Widget:
    """A line of the member's day; an earlier answer stands out with a marker."""
    colour = theme.BUSY if earlier else theme.TEXT
    label = text(line, m, "small", colour=colour, bold=earlier, min_ratio=0.85)
    marker = Widget(size_hint_x=None, width=m.px(4))
    paint(marker, theme.BUSY if earlier else theme.ACCENT, radius=m.px(2))
    return hbox(m, marker, label, height=m.px(52))


# --- denied and answer -----------------------------------------------------------


class MessageScreen(Screen):
    """A sign, a title, a message and buttons, centred: denied taps and answers."""

    def __init__(
        self,
        view: ScreenView,
        ui: Ui,
        *,
        sign: str,
        colour: theme.Rgba,
        title: str,
        message: str,
        actions: Sequence[Button],
    ) -> None:
        super().__init__(view, ui)
        m = ui.m
        side = m.px(88)
        emblem = Emblem(sign, colour, size_hint=(None, None), size=(side, side))
        body = text(message, m, "body", halign="center", min_ratio=0.6, height=m.px(112))
        body.max_font, body.valign = m.px(25), "top"
        self.add_widget(Spacer())
        self.add_widget(hbox(m, Spacer(), emblem, Spacer(), height=side))
        heading = text(
            title, m, "title", bold=True, halign="center", single_line=True, height=m.px(56)
        )
        heading.max_font = m.px(40)
        self.add_widget(heading)
        self.add_widget(
            hbox(m, Spacer(size_hint_x=0.08), body, Spacer(size_hint_x=0.08), height=body.height)
        )
        self.add_widget(Spacer())
        self.add_widget(action_bar(actions, ui, centred=True))


class DeniedScreen(MessageScreen):
    """A refused card: a friendly reason, no name."""

    def __init__(self, view: DeniedView, ui: Ui) -> None:
        super().__init__(
            view,
            ui,
            sign="bang",
            colour=theme.LEVEL["red"],
            title=view.title,
            message=view.message,
            actions=view.actions,
        )


SIGNS = {"waiting": "dots", "queued": "clock", "done": "check", "refused": "cross"}


class AnswerScreen(MessageScreen):
    """A request on its way, saved for later, done or refused."""

    def __init__(self, view: AnswerView, ui: Ui) -> None:
        super().__init__(
            view,
            ui,
            sign=SIGNS[view.state],
            colour=theme.STATE[view.state],
            title=view.title,
            message=view.message,
            actions=view.actions,
        )


# --- the steps of an action --------------------------------------------------------


def step_header(title: str, prompt: str, m: Metrics) -> list[Widget]:
    """A step's title and its question."""
    widgets: list[Widget] = [text(title, m, "title", bold=True, single_line=True, height=m.px(42))]
    if prompt:
        widgets.append(text(prompt, m, "body", colour=theme.MUTED, height=m.px(32)))
    return widgets


class ChoiceScreen(Screen):
    """Pick one: big tiles with a label and a detail line each."""

    def __init__(self, view: ChoiceView, ui: Ui) -> None:
        super().__init__(view, ui)
        m = ui.m
        for widget in step_header(view.title, view.prompt, m):
            self.add_widget(widget)
        if view.options:
            tiles = [TouchButton(b, m, ui.press) for b in view.options]
            detail = any(b.detail for b in view.options)
            self.add_widget(
                TileGrid(
                    tiles,
                    m,
                    tile_height=m.px(84 if detail else 72),
                    max_height=m.px(110),
                    min_width=m.px(220),
                    max_cols=2 if m.portrait else 3,
                )
            )
        else:
            self.add_widget(text(view.empty_text, m, "body", colour=theme.MUTED, halign="center"))
        self.add_widget(action_bar(view.actions, ui))


class ConfirmScreen(Screen):
    """What will happen, in a few lines, with the button that does it."""

    def __init__(self, view: ConfirmView, ui: Ui) -> None:
        super().__init__(view, ui)
        m = ui.m
        for widget in step_header(view.title, "", m):
            self.add_widget(widget)
        card = Card(m, padding=(m.px(20), m.px(16)))
        lines = []
        for index, line in enumerate(view.lines):
            first = index == 0
            height = m.px(48 if first else 56 if m.portrait else 40)
            label = text(line, m, "title" if first else "body", bold=first, height=height)
            label.max_font = m.font("title") if first else m.px(24)
            lines.append(label)
        if view.warning:
            height = m.px(56 if m.portrait else 40)
            lines.append(text(view.warning, m, "body", colour=theme.BUSY, bold=True, height=height))
        card.add_widget(RowStack(lines, m, spacing=m.px(4), more=card.more))
        self.add_widget(card)
        self.add_widget(action_bar(view.actions, ui))


KEY_HEIGHT = 84
"""Keys are this tall at most (reference px): a taller keyboard is no easier to type on."""


class NameEntryScreen(Screen):
    """Typing a name on big keys: the name so far above a keyboard of the view's rows."""

    def __init__(self, view: NameEntryView, ui: Ui) -> None:
        super().__init__(view, ui)
        m = ui.m
        header = vbox(
            m,
            text(view.title, m, "heading", colour=theme.ACCENT, bold=True, single_line=True),
            text(view.prompt, m, "body", single_line=True),
        )
        field = BoxLayout(padding=(m.px(16), m.px(4)))
        paint(field, theme.SURFACE, radius=m.px(12), line=theme.ACCENT, line_width=1.5)
        shown = view.text or view.placeholder
        self.entry = text(
            shown,
            m,
            "entry",
            bold=bool(view.text),
            single_line=True,
            colour=theme.TEXT if view.text else theme.MUTED,
        )
        field.add_widget(self.entry)
        if m.portrait:
            header.size_hint_y, header.height = None, m.px(56)
            field.size_hint_y, field.height = None, m.px(72)
            self.add_widget(header)
            self.add_widget(field)
            top = header.height + m.gap + field.height
        else:
            header.size_hint_x = 0.42
            self.add_widget(hbox(m, header, field, height=m.px(72)))
            top = m.px(72)
        self.add_widget(Spacer())  # what the keys do not need goes between field and keys
        keyboard = self._keyboard(view, ui, m.height - 2 * m.margin - top - 2 * m.gap)
        self.add_widget(keyboard)

    def _keyboard(self, view: NameEntryView, ui: Ui, room: float) -> Widget:
        """The view's key rows, keys of one width and at most :data:`KEY_HEIGHT` tall, in
        ``room`` px; the last row shares its line with the actions (Back at the left,
        Continue at the right), as on a phone."""
        m = ui.m
        gap, row_gap = m.px(6), m.px(8)
        rows = list(view.keys)
        count = len(rows) + (0 if rows else 1)
        row_height = min(m.px(KEY_HEIGHT), (room - (count - 1) * row_gap) / count)
        last = rows.pop() if rows else ()
        widest = max((len(r) for r in rows), default=1)
        key_width = (ui.content_width - (widest - 1) * gap) / widest
        board = vbox(m, spacing=row_gap, height=count * row_height + (count - 1) * row_gap)
        for row in rows:
            line = hbox(m, spacing=gap, padding=((widest - len(row)) * (key_width + gap) / 2, 0))
            for key in row:
                line.add_widget(key_button(key, ui))
            board.add_widget(line)
        quiet = [a for a in view.actions if a.style == "quiet"]
        main = [a for a in view.actions if a.style != "quiet"]
        bottom = hbox(m, spacing=gap)
        for button, weight in [
            *((b, 1.5) for b in quiet),
            *((b, 1.0 if len(b.label) == 1 else 1.9) for b in last),
            *((b, 1.7) for b in main),
        ]:
            widget = key_button(button, ui)
            widget.size_hint_x = weight
            bottom.add_widget(widget)
        board.add_widget(bottom)
        return board


def key_button(button: Button, ui: Ui) -> TouchButton:
    """A key: a single letter in large bold type; a word (Space, Delete) as a button."""
    role = "key" if len(button.label) == 1 else "button"
    return TouchButton(button, ui.m, ui.press, role=role)


# --- which screen ----------------------------------------------------------------

SCREENS: dict[str, Callable[[Any, Ui], Screen]] = {
    "idle": IdleScreen,
    "badge": BadgeScreen,
    "denied": DeniedScreen,
    "choice": ChoiceScreen,
    "name_entry": NameEntryScreen,
    "confirm": ConfirmScreen,
    "answer": AnswerScreen,
}


def build_screen(view: ScreenView, ui: Ui) -> Screen:
    """The screen widget for ``view``, chosen by its kind."""
    return SCREENS[view.kind](view, ui)
