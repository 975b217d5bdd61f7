"""The screens' building blocks: text that always fits, touch buttons, bars, cards.

Sizes come from the screen (see :class:`kiosk.ui.theme.Metrics`); nothing
here knows about the model, only about :class:`kiosk.views.Button`.
"""

import math
from collections.abc import Callable, Sequence
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Ellipse, Line, Rectangle, RoundedRectangle
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from hublink.messages import Level
from kiosk.ui import theme
from kiosk.ui.theme import Metrics, Rgba
from kiosk.views import Button

MIN_FONT = 11.0
"""No text is drawn smaller than this many pixels."""
SHRINK = 0.9
ELLIPSIS = "…"

Press = Callable[[Button], None]


def paint(
    widget: Widget,
    colour: Rgba,
    *,
    radius: float = 0,
    line: Rgba | None = None,
    line_width: float = 1.2,
) -> Color:
    """Give ``widget`` a (rounded) background that follows it; its fill's Color."""
    with widget.canvas.before:
        fill = Color(rgba=colour)
        shape = (
            RoundedRectangle(pos=widget.pos, size=widget.size, radius=[radius])
            if radius
            else Rectangle(pos=widget.pos, size=widget.size)
        )
        outline = None
        if line is not None:
            Color(rgba=line)
            outline = Line(width=line_width)

    def follow(*_: object) -> None:
        shape.pos, shape.size = widget.pos, widget.size
        if outline is not None:
            inset = line_width
            outline.rounded_rectangle = (
                widget.x + inset,
                widget.y + inset,
                widget.width - 2 * inset,
                widget.height - 2 * inset,
                max(radius - inset, 1),
            )

    widget.fbind("pos", follow)
    widget.fbind("size", follow)
    follow()
    return fill


def layout_pending(widget: Widget) -> bool:
    """Whether a layout around ``widget`` is yet to place its children (this frame).

    Kivy's layouts, and :class:`RowStack` and :class:`TileGrid`, keep the
    Clock trigger of their next layout in ``_trigger_layout``.
    """
    parent = widget.parent
    while parent is not None and parent is not widget:
        trigger = getattr(parent, "_trigger_layout", None)
        if trigger is not None and trigger.is_triggered:
            return True
        widget, parent = parent, getattr(parent, "parent", None)
    return False


class FitLabel(Label):  # type: ignore[misc]
    """Text that always fits its box: it wraps, shrinks down to ``min_ratio``, then is cut.

    ``full_text`` is what should be shown; ``text`` is what is shown (the
    same, unless even the smallest size does not fit and the end is cut
    with an ellipsis). Text wraps at the box's width, and shrinks rather
    than break a word; a ``single_line`` label shrinks to the box's width
    before it is cut. ``text_size`` gets a height only to draw text that
    fits at the top of its box (``valign='top'``), so Kivy never clips text.
    """

    full_text = StringProperty("")
    max_font = NumericProperty(20)
    min_ratio = NumericProperty(0.7)
    single_line = BooleanProperty(False)

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("halign", "left")
        super().__init__(**kwargs)
        self._fitted: tuple[object, ...] = ()
        self._fit_soon = Clock.create_trigger(self.fit, -1)
        for name in ("size", "full_text", "max_font", "min_ratio", "single_line"):
            self.fbind(name, self._fit_soon)
        self.full_text = text

    def fit(self, *_: object) -> None:
        """Choose the largest type size (and, if need be, the cut) that fits the box."""
        if layout_pending(self):  # the box is not final yet: fit once it is
            self._fit_soon()
            return
        width, height = self.width, self.height
        wanted = (width, height, self.full_text, self.max_font, self.min_ratio, self.single_line)
        if width < 4 or height < 4 or wanted == self._fitted:
            return
        self._fitted = wanted
        self.text = self.full_text
        self.text_size = (width, None)
        self.shorten = self.single_line
        self.shorten_from = "right"
        floor = max(MIN_FONT, self.max_font * self.min_ratio)
        size = max(floor, self.max_font)
        while True:
            self.font_size = size
            self.texture_update()
            if self._fits(width, height) or size <= floor:
                break
            size = max(floor, size * SHRINK)
        if self.texture_size[1] > height and not self.single_line:
            self._cut(height)
        if self.valign == "top" and self.texture_size[1] < height:
            self.text_size = (width, height)  # the text fits: now draw it at the top
            self.texture_update()

    def _fits(self, width: float, height: float) -> bool:
        """Whether the text as rendered fits: not too tall, not cut, no word broken."""
        if self.texture_size[1] > height or self.is_shortened:
            return False
        if self.single_line:
            return True
        extents = self._label.get_extents
        return all(extents(word)[0] <= width for word in self.full_text.split())

    def _cut(self, height: float) -> None:
        words = self.full_text.split()
        low, high = 0, len(words)
        while low < high:  # the most words that fit with an ellipsis
            middle = (low + high + 1) // 2
            self.text = " ".join(words[:middle]) + ELLIPSIS
            self.texture_update()
            if self.texture_size[1] <= height:
                low = middle
            else:
                high = middle - 1
        if low == 0:
            self.text = self.full_text
            self.shorten = True
        else:
            self.text = " ".join(words[:low]) + ELLIPSIS
        self.texture_update()


def text(
    value: str,
    m: Metrics,
    role: str,
    *,
    colour: Rgba = theme.TEXT,
    bold: bool = False,
    halign: str = "left",
    single_line: bool = False,
    height: float | None = None,
    width: float | None = None,
    min_ratio: float = 0.7,
) -> FitLabel:
    """A :class:`FitLabel` in the type size for ``role``; fixed ``height``/``width`` if given."""
    label = FitLabel(
        value,
        max_font=m.font(role),
        color=colour,
        bold=bold,
        halign=halign,
        single_line=single_line,
        min_ratio=min_ratio,
    )
    if height is not None:
        label.size_hint_y, label.height = None, height
    if width is not None:
        label.size_hint_x, label.width = None, width
    return label


class TouchButton(ButtonBehavior, BoxLayout):  # type: ignore[misc]
    """A big touch target for a :class:`kiosk.views.Button`: its label, its detail below.

    Releasing a touch on it calls ``on_press_button(button)``; a disabled
    button is drawn faded and takes no touch.
    """

    def __init__(
        self, button: Button, m: Metrics, on_press_button: Press, *, role: str = "button"
    ) -> None:
        inset = m.px(2) if role == "key" else m.px(10)
        super().__init__(orientation="vertical", padding=(inset, m.px(6)))
        self.button = button
        self._on_press_button = on_press_button
        self.colours = theme.BUTTON[button.style] if button.enabled else theme.DISABLED
        self.disabled = not button.enabled
        self._fill = paint(
            self,
            self.colours.fill,
            radius=m.px(12),
            line=self.colours.line if button.style == "quiet" or not button.enabled else None,
        )
        bold = button.style in ("primary", "danger") or role == "key"
        self.label = FitLabel(
            button.label,
            max_font=m.font(role),
            color=self.colours.text,
            disabled_color=self.colours.text,
            bold=bold,
            halign="center",
            min_ratio=0.6,
        )
        self.add_widget(self.label)
        self.detail: FitLabel | None = None
        if button.detail:
            self.detail = FitLabel(
                button.detail,
                max_font=m.font("detail"),
                color=self.colours.detail,
                disabled_color=self.colours.detail,
                halign="center",
                single_line=True,
                size_hint_y=0.62,
            )
            self.add_widget(self.detail)
        self.fbind("state", self._show_state)

    def _show_state(self, *_: object) -> None:
        self._fill.rgba = self.colours.down if self.state == "down" else self.colours.fill

    def on_release(self) -> None:
        """Kivy's release inside the button: tell the screen which button it was."""
        if self.button.enabled and not self.disabled:
            self._on_press_button(self.button)


class LevelBar(Widget):  # type: ignore[misc]
    """How full a zone is: a rounded track, filled to ``share`` in the level's colour."""

    def __init__(self, share: float, level: Level, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.share = max(0.0, min(1.0, share))
        self.level = level
        with self.canvas:
            Color(rgba=theme.TRACK)
            self._track = RoundedRectangle()
            Color(rgba=theme.LEVEL[level])
            self._fill = RoundedRectangle()
        self.fbind("pos", self._draw)
        self.fbind("size", self._draw)

    def _draw(self, *_: object) -> None:
        radius = [self.height / 2]
        self._track.pos, self._track.size, self._track.radius = self.pos, self.size, radius
        width = self.width * self.share
        if 0 < width < self.height:  # a sliver still shows as a dot
            width = self.height
        self._fill.pos, self._fill.size, self._fill.radius = self.pos, (width, self.height), radius


class Emblem(Widget):  # type: ignore[misc]
    """A round sign above a message: ``check``, ``cross``, ``dots``, ``clock`` or ``bang``."""

    def __init__(self, sign: str, colour: Rgba, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sign = sign
        self.colour = colour
        self.fbind("pos", self._draw)
        self.fbind("size", self._draw)

    def _draw(self, *_: object) -> None:
        self.canvas.clear()
        side = min(self.width, self.height)
        cx, cy, r = self.center_x, self.center_y, side / 2
        stroke = max(2.0, side * 0.07)
        with self.canvas:
            Color(rgba=self.colour)
            Ellipse(pos=(cx - r, cy - r), size=(side, side))
            Color(rgba=theme.TEXT)
            if self.sign == "check":
                Line(
                    points=[
                        cx - r * 0.42,
                        cy,
                        cx - r * 0.1,
                        cy - r * 0.32,
                        cx + r * 0.45,
                        cy + r * 0.3,
                    ],
                    width=stroke,
                    cap="round",
                    joint="round",
                )
            elif self.sign == "cross":
                d = r * 0.36
                Line(points=[cx - d, cy - d, cx + d, cy + d], width=stroke, cap="round")
                Line(points=[cx - d, cy + d, cx + d, cy - d], width=stroke, cap="round")
            elif self.sign == "dots":
                dot = r * 0.22
                for dx in (-r * 0.45, 0.0, r * 0.45):
                    Ellipse(pos=(cx + dx - dot / 2, cy - dot / 2), size=(dot, dot))
            elif self.sign == "clock":
                Line(circle=(cx, cy, r * 0.55), width=stroke * 0.7)
                Line(
                    points=[cx, cy + r * 0.35, cx, cy, cx + r * 0.25, cy - r * 0.12],
                    width=stroke * 0.7,
                    cap="round",
                    joint="round",
                )
            else:  # "bang"
                Line(points=[cx, cy + r * 0.48, cx, cy - r * 0.08], width=stroke, cap="round")
                dot = stroke * 2.2
                Ellipse(pos=(cx - dot / 2, cy - r * 0.45 - dot / 2), size=(dot, dot))


class Banner(BoxLayout):  # type: ignore[misc]
    """A strip that cannot be missed: the kiosk is offline."""

    def __init__(self, message: str, m: Metrics) -> None:
        super().__init__(size_hint_y=None, height=m.px(44), padding=(m.px(16), m.px(4)))
        paint(self, theme.BANNER, radius=m.px(10))
        self.label = text(
            message, m, "banner", colour=theme.BANNER_TEXT, bold=True, halign="center"
        )
        self.add_widget(self.label)


class Card(BoxLayout):  # type: ignore[misc]
    """A rounded panel with a heading; ``more`` (in the heading) counts rows left out."""

    def __init__(self, m: Metrics, heading: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("padding", m.px(12))
        super().__init__(spacing=m.px(8), **kwargs)
        paint(self, theme.SURFACE, radius=m.px(14))
        self.more = text(
            "", m, "small", colour=theme.MUTED, halign="right", single_line=True, width=m.px(56)
        )
        if heading:
            title = text(heading, m, "heading", colour=theme.ACCENT, bold=True, single_line=True)
            row = BoxLayout(size_hint_y=None, height=m.px(26))
            row.add_widget(title)
            row.add_widget(self.more)
            self.add_widget(row)


def show_left_out(more: FitLabel | None, count: int) -> None:
    """Write ``+N`` (or nothing) on a card's heading."""
    if more is not None:
        more.full_text = f"+{count}" if count else ""


class RowStack(Widget):  # type: ignore[misc]
    """Fixed-height rows from the top down, as many as fit; ``more`` tells how many did not."""

    def __init__(
        self,
        rows: Sequence[Widget],
        m: Metrics,
        *,
        spacing: float | None = None,
        more: FitLabel | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.rows = list(rows)
        self.spacing = m.px(8) if spacing is None else spacing
        self.more = more
        self.shown = 0
        self._trigger_layout = Clock.create_trigger(self._layout, -1)
        self.fbind("pos", self._trigger_layout)
        self.fbind("size", self._trigger_layout)

    def fitting(self, height: float) -> int:
        """How many rows fit in ``height``."""
        used, count = 0.0, 0
        for row in self.rows:
            used += row.height + (self.spacing if count else 0)
            if used > height:
                break
            count += 1
        return count

    def _layout(self, *_: object) -> None:
        self.clear_widgets()
        self.shown = self.fitting(self.height)
        top = self.top
        for row in self.rows[: self.shown]:
            row.size_hint = (None, None)
            row.width, row.x, row.top = self.width, self.x, top
            self.add_widget(row)
            top -= row.height + self.spacing
        show_left_out(self.more, len(self.rows) - self.shown)


def arrange(count: int, width: float, gap: float, min_width: float, max_cols: int) -> int:
    """How many columns ``count`` tiles take in ``width``: as few rows as keep tiles wide."""
    if count <= 0:
        return 1
    for rows in range(1, count + 1):
        cols = min(max_cols, math.ceil(count / rows))
        if (width - (cols - 1) * gap) / cols >= min_width or cols == 1:
            return cols
    return 1


class TileGrid(Widget):  # type: ignore[misc]
    """Equal tiles in rows from the top (a short last row centred, if so wished), as tall
    as there is room for up to ``max_height``; rows that do not fit are left out, and
    ``more`` tells how many tiles were."""

    def __init__(
        self,
        tiles: Sequence[Widget],
        m: Metrics,
        *,
        tile_height: float,
        min_width: float,
        max_cols: int = 3,
        gap: float | None = None,
        more: FitLabel | None = None,
        centre_last_row: bool = True,
        max_height: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tiles = list(tiles)
        self.centre_last_row = centre_last_row
        self.max_height = tile_height if max_height is None else max_height
        self.gap = m.gap if gap is None else gap
        self.tile_height = tile_height
        self.min_width = min_width
        self.max_cols = max_cols
        self.more = more
        self.shown = 0
        self._trigger_layout = Clock.create_trigger(self._layout, -1)
        self.fbind("pos", self._trigger_layout)
        self.fbind("size", self._trigger_layout)

    def rows_needed(self, width: float) -> int:
        """Rows the tiles take at ``width`` if nothing is left out."""
        cols = arrange(len(self.tiles), width, self.gap, self.min_width, self.max_cols)
        return math.ceil(len(self.tiles) / cols)

    def height_for(self, width: float) -> float:
        """The grid's height at ``width`` with every tile shown."""
        rows = self.rows_needed(width)
        return rows * self.tile_height + max(0, rows - 1) * self.gap

    def _layout(self, *_: object) -> None:
        self.clear_widgets()
        count = len(self.tiles)
        if not count or self.width < 1:
            return
        fit_rows = int((self.height + self.gap) // (self.tile_height + self.gap))
        cols = arrange(count, self.width, self.gap, self.min_width, self.max_cols)
        while math.ceil(count / cols) > fit_rows and cols < self.max_cols:
            cols += 1  # narrower tiles before any is left out
        rows = min(fit_rows, math.ceil(count / cols))
        self.shown = min(count, rows * cols)
        tile_w = (self.width - (cols - 1) * self.gap) / cols
        tile_h = max(
            self.tile_height,
            min(self.max_height, (self.height - (rows - 1) * self.gap) / max(rows, 1)),
        )
        for index, tile in enumerate(self.tiles[: self.shown]):
            row, col = divmod(index, cols)
            in_row = min(cols, self.shown - row * cols)
            indent = (cols - in_row) * (tile_w + self.gap) / 2 if self.centre_last_row else 0
            tile.size_hint = (None, None)
            tile.size = (tile_w, tile_h)
            tile.x = self.x + indent + col * (tile_w + self.gap)
            tile.top = self.top - row * (tile_h + self.gap)
            self.add_widget(tile)
        show_left_out(self.more, count - self.shown)


class Spacer(Widget):  # type: ignore[misc]
    """Empty space that takes what the layout gives it."""
