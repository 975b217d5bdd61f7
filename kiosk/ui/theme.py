"""Colours, type sizes and spacing of the screens, scaled to the window (no Kivy here).

Every size is given for the reference display, 800×480 (or 480×800), and
multiplied by :attr:`Metrics.scale`: the window's short side over 480.
"""

from dataclasses import dataclass

from hublink.messages import Level

Rgba = tuple[float, float, float, float]


def rgb(hex_code: str, alpha: float = 1.0) -> Rgba:
    """``#rrggbb`` as Kivy's 0-1 RGBA."""
    value = hex_code.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (red, green, blue, alpha)


BACKGROUND = rgb("#12161d")
SURFACE = rgb("#1c222c")
"""Cards on the background."""
TRACK = rgb("#2a3240")
"""The empty part of a bar."""
TEXT = rgb("#f1f4f8")
MUTED = rgb("#9ba6b6")
ACCENT = rgb("#6fb3ff")
"""Headings."""

LEVEL: dict[Level, Rgba] = {
    "green": rgb("#3aa655"),
    "amber": rgb("#e0a526"),
    "red": rgb("#d64545"),
}
LEVEL_TEXT: dict[Level, Rgba] = {
    "green": rgb("#62c77a"),
    "amber": rgb("#f0bd4f"),
    "red": rgb("#f07070"),
}
"""The level colours lightened for words on the dark background."""
FREE = LEVEL_TEXT["green"]
BUSY = LEVEL_TEXT["amber"]

BANNER = rgb("#e0a526")
BANNER_TEXT = rgb("#1a1406")

STATE: dict[str, Rgba] = {
    "waiting": rgb("#4d8fd6"),
    "queued": rgb("#e0a526"),
    "done": rgb("#3aa655"),
    "refused": rgb("#d64545"),
}
"""An answer's accent: on its way, saved for later, done, refused."""


@dataclass(frozen=True)
class ButtonColours:
    """A button style's fill, fill while pressed, outline and text."""

    fill: Rgba
    down: Rgba
    line: Rgba
    text: Rgba
    detail: Rgba


BUTTON: dict[str, ButtonColours] = {
    "primary": ButtonColours(rgb("#2f7ed8"), rgb("#4a95ea"), rgb("#2f7ed8"), TEXT, rgb("#dbe9fb")),
    "normal": ButtonColours(rgb("#2a3342"), rgb("#3a4659"), rgb("#3b4657"), TEXT, MUTED),
    "quiet": ButtonColours(BACKGROUND, rgb("#222a36"), rgb("#4a5568"), rgb("#c8d0dc"), MUTED),
    "danger": ButtonColours(rgb("#b83a3a"), rgb("#cf5252"), rgb("#b83a3a"), TEXT, rgb("#f6dada")),
}
DISABLED = ButtonColours(
    rgb("#1a1f27"), rgb("#1a1f27"), rgb("#2a313c"), rgb("#5c6676"), rgb("#4a5362")
)

REFERENCE_SIDE = 480.0
MIN_BUTTON = 64.0
"""A touch target's least height at the reference size."""

FONT = {
    "title": 30.0,
    "heading": 19.0,
    "body": 21.0,
    "small": 16.0,
    "button": 23.0,
    "detail": 16.0,
    "key": 28.0,
    "clock": 46.0,
    "entry": 40.0,
    "banner": 19.0,
}
"""Type sizes (px at the reference size) by role."""


@dataclass(frozen=True)
class Metrics:
    """The window's size and what follows from it: scale and orientation."""

    width: float
    height: float

    @property
    def scale(self) -> float:
        """Sizes are given for a 480 px short side; this is the window's factor."""
        return max(0.5, min(self.width, self.height) / REFERENCE_SIDE)

    @property
    def portrait(self) -> bool:
        """True when the window is taller than wide (stacked layouts)."""
        return self.height > self.width

    def px(self, value: float) -> float:
        """``value`` reference pixels in this window."""
        return round(value * self.scale)

    def font(self, role: str) -> float:
        """The type size for ``role`` (a key of :data:`FONT`)."""
        return round(FONT[role] * self.scale)

    @property
    def margin(self) -> float:
        """Space between the screen's edge and its content."""
        return self.px(16)

    @property
    def gap(self) -> float:
        """Space between neighbouring parts."""
        return self.px(10)

    @property
    def button_height(self) -> float:
        """A touch button's height."""
        return self.px(MIN_BUTTON + 8)
