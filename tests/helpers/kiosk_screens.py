"""Driving the kiosk's Kivy screens offscreen: a real model, simulated touches, screenshots.

There is one Kivy window per process (tests/conftest.py creates it
offscreen, 1280×1280, so that every size tested fits in its GL surface);
each :class:`KioskScreens` puts a fresh :class:`KioskApp` on it at the size
asked for and takes it off again in :meth:`KioskScreens.close`.
"""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from kivy.base import EventLoop
from kivy.core.image import Image as CoreImage
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from hublink.messages import (
    KIOSK_DIRECTORY,
    OCCUPANCY,
    UPCOMING_EVENTS,
    DirectoryEntry,
    Fill,
    KioskDirectory,
    Occupancy,
    RoomFill,
    UpcomingEvent,
    UpcomingEvents,
    ZoneFill,
)
from kiosk.cache import Cache
from kiosk.config import DisplaySection, KioskSection
from kiosk.feeds import Feeds
from kiosk.i18n import Translator
from kiosk.model import KioskModel
from kiosk.ui import theme
from kiosk.ui.app import KioskApp
from kiosk.ui.widgets import Banner, TouchButton
from tests.helpers.kiosk_data import FakeClock, FakeSender

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "artifacts" / "kiosk"
"""Wednesday 25 November, 10:00 in Stockholm."""
ASA = "a" * 64
"""Åsa's card hash, in the kiosk's directory."""
STRANGER = "f" * 64
"""A card the directory does not know."""
SIZES = [(800, 480), (1280, 800), (480, 800), (800, 1280)]
ZONES = [
    ("Campfire circle", 7, 12, "amber"),
    ("Lookout", 2, 8, "green"),
    ("Rest stop", 4, 4, "red"),
    ("Obstacle course", 1, 10, "green"),
    ("National park", 9, 16, "amber"),
    ("Oasis", 0, 6, "green"),
    ("Forest glade", 3, 10, "green"),
]


def publish_hub_data(feeds: Feeds, now: datetime) -> None:
    """The hub's retained messages, encoded as the link delivers them."""
    feeds.directory_payload(
        KIOSK_DIRECTORY.encode(
            KioskDirectory(
                kiosk_id="entrance",
                version=1,
                entries=(DirectoryEntry(credential=ASA, member_id="m1", first_name="Åsa"),),
            )
        )
    )
    zones = tuple(
        ZoneFill(zone_id=f"z{i}", name=name, count=count, capacity=capacity, level=level)
        for i, (name, count, capacity, level) in enumerate(ZONES)
    )
    rooms = (
        RoomFill(
            room_id="r1",
            zone_id="z1",
            name="Lookout room",
            count=0,
            capacity=6,
            level="green",
            next_booking_at=now + timedelta(hours=2),
        ),
        RoomFill(
            room_id="r2",
            zone_id="z4",
            name="Project room Ek",
            count=3,
            capacity=6,
            level="green",
            booked_until=now + timedelta(hours=1),
            next_booking_at=now + timedelta(hours=4),
        ),
        RoomFill(
            room_id="r3",
            zone_id="z4",
            name="Conference room Björk",
            count=0,
            capacity=12,
            level="green",
        ),
    )
    feeds.occupancy_payload(
        OCCUPANCY.encode(
            Occupancy(
                site=Fill(count=26, capacity=80, level="green"), open=True, zones=zones, rooms=rooms
            )
        )
    )

    def event(
        ident: str, title: str, hours: float, capacity: int, taken: int, **kw: int
    ) -> UpcomingEvent:
        start = now + timedelta(hours=hours)
        return UpcomingEvent(
            event_id=ident,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            capacity=capacity,
            taken=taken,
            **kw,
        )

    events = (
        event("ev1", "Storytelling", 5, 10, 9, max_guests=2),
        event("ev2", "Planning poker for public-sector projects", 2, 10, 10, waitlist=2),
        event("ev3", "Morning stretch", 1, 15, 3),
        event("ev4", "Lunch talk: open data", 3, 40, 12),
        event("ev5", "Friday fika", 50, 40, 12),
    )
    feeds.events_payload(UPCOMING_EVENTS.encode(UpcomingEvents(events=events)))


def in_thread(call: Callable[[], object]) -> None:
    """Run ``call`` in another thread and wait for it, as the link or the reader does."""
    worker = threading.Thread(target=call)
    worker.start()
    worker.join(5)


def walk(widget: Widget) -> Iterator[Widget]:
    """``widget`` and everything under it."""
    yield widget
    for child in widget.children:
        yield from walk(child)


def window_rect(widget: Widget) -> tuple[float, float, float, float]:
    """``widget``'s (x, y, right, top) in window coordinates."""
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


class KioskScreens:
    """A :class:`KioskApp` on the window at ``size``, over a real model, cache and feeds."""

    def __init__(
        self,
        folder: Path,
        size: tuple[int, int] = (800, 480),
        *,
        language: str = "en",
        screenshot_dir: Path | None = None,
    ) -> None:
        self.time = FakeClock()
        self.sender = FakeSender()
        self.cache = Cache(folder / "kiosk.sqlite3")
        self.feeds = Feeds(self.cache, self._data_changed, self.time.utc)
        publish_hub_data(self.feeds, self.time.now)
        self.feeds.link_status(True)
        self.feeds.hub_status(True)
        settings = KioskSection(
            id="entrance", title="hubtap", timezone="Europe/Stockholm", language=language
        )
        self.model = KioskModel(
            settings,
            self.feeds,
            self.cache,
            self.sender,
            Translator(language),
            clock=self.time.utc,
            monotonic=self.time.monotonic,
        )
        Window.size = size
        self.app = KioskApp(
            self.model, DisplaySection(fullscreen=False), screenshot_dir=screenshot_dir
        )
        self.root = self.app.build()
        Window.add_widget(self.root)
        self.pump()

    def _data_changed(self, what: str) -> None:
        model: KioskModel | None = getattr(self, "model", None)  # None while it is made
        if model is not None:
            model.data_changed(what)

    def close(self) -> None:
        """Take the app off the window and let go of the cache."""
        self.app.close()
        Window.remove_widget(self.root)
        EventLoop.touches.clear()
        self.cache.close()

    # --- time and frames ------------------------------------------------

    def pump(self, frames: int = 4) -> None:
        """Let Kivy run ``frames`` frames (clock, layout, drawing)."""
        for _ in range(frames):
            EventLoop.idle()

    def wait_for(self, check: Callable[[], object], timeout: float = 3.0) -> None:
        """Run frames until ``check()`` holds (and a few more, for layout and drawing)."""
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {check}"
            EventLoop.idle()
        self.pump()

    def resize(self, size: tuple[int, int]) -> None:
        """Give the window a new size and wait for the screen to be rebuilt for it."""
        builds = self.app.builds
        Window.size = size
        self.wait_for(lambda: self.app.builds > builds)

    @property
    def kind(self) -> str:
        """The kind of view on the screen now."""
        assert self.app.view is not None
        return self.app.view.kind

    def shows(self, kind: str) -> Callable[[], bool]:
        """A check for :meth:`wait_for`: the screen shows ``kind`` and the model's latest."""
        return lambda: self.kind == kind and self.app.shown_revision == self.model.revision

    # --- finding --------------------------------------------------------

    def buttons(self) -> list[TouchButton]:
        return [w for w in walk(self.root) if isinstance(w, TouchButton)]

    def button(self, label: str) -> TouchButton:
        found = [b for b in self.buttons() if b.label.text == label]
        assert len(found) == 1, f"{label!r} among {[b.label.text for b in self.buttons()]}"
        return found[0]

    def button_for(self, button_id: str) -> TouchButton:
        """The button for the view's button ``button_id`` (whatever its label's language)."""
        found = [b for b in self.buttons() if b.button.id == button_id]
        assert len(found) == 1, f"{button_id!r} among {[b.button.id for b in self.buttons()]}"
        return found[0]

    def labels(self) -> list[Label]:
        return [w for w in walk(self.root) if isinstance(w, Label) and w.text]

    def label(self, text: str) -> Label:
        found = [w for w in self.labels() if w.text == text]
        assert found, f"no label {text!r} among {self.texts()}"
        return found[0]

    def texts(self) -> list[str]:
        return [w.text for w in self.labels()]

    def banners(self) -> list[Banner]:
        return [w for w in walk(self.root) if isinstance(w, Banner)]

    # --- touching -------------------------------------------------------

    def touch_at(self, x: float, y: float) -> None:
        """A finger down and up at window position (x, y)."""
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def touch(self, widget: Widget) -> None:
        """Touch the middle of ``widget``, where it is on the window."""
        x, y, right, top = window_rect(widget)
        self.touch_at((x + right) / 2, (y + top) / 2)

    def press(self, label: str, then: str | None = None, *, by_id: bool = False) -> None:
        """Touch the button showing ``label`` (or, ``by_id``, the one for that button id);
        wait for the ``then`` screen if given."""
        revision = self.model.revision
        self.touch(self.button_for(label) if by_id else self.button(label))
        if then is not None:
            self.wait_for(lambda: self.model.revision > revision)
            self.wait_for(self.shows(then))

    # --- checking -------------------------------------------------------

    def layout_problems(self) -> list[str]:
        """Widgets outside the window, text bigger than its box or its button, small buttons."""
        width, height = Window.size
        scale = min(width, height) / theme.REFERENCE_SIDE
        problems = []
        for widget in walk(self.root):
            if widget.width <= 0 or widget.height <= 0:
                continue
            x, y, right, top = window_rect(widget)
            if x < -0.5 or y < -0.5 or right > width + 0.5 or top > height + 0.5:
                problems.append(f"{widget!r} at {(x, y, right, top)} is outside {width}x{height}")
            if isinstance(widget, Label) and widget.text:
                problems += text_problems(widget)
            if isinstance(widget, TouchButton):
                if widget.height < theme.MIN_BUTTON * scale - 0.5:
                    problems.append(f"button {widget.button.label!r} is {widget.height} px tall")
                for label in (widget.label, widget.detail):
                    if label is not None and not contains(window_rect(widget), window_rect(label)):
                        problems.append(f"label {label.text!r} sticks out of its button")
        buttons = [window_rect(b) for b in self.buttons()]
        for index, first in enumerate(buttons):
            for second in buttons[index + 1 :]:
                if overlap(first, second):
                    problems.append(f"buttons overlap: {first} {second}")
        return problems

    def screenshot(self, name: str) -> Path:
        """Save the screen as ``build/artifacts/kiosk/<name>-<w>x<h>.png``."""
        width, height = Window.size
        return self.app.screenshot(ARTIFACTS / f"{name}-{width}x{height}.png")


def text_problems(label: Label) -> list[str]:
    """Whether ``label``'s text, rendered afresh the way it is wrapped, fits its box."""
    problems = []
    tex_w, tex_h = label.texture_size
    if tex_w > label.width + 0.5 or tex_h > label.height + 0.5:
        problems.append(f"texture {label.texture_size} of {label.text!r} exceeds {label.size}")
    probe = Label(
        text=label.text,
        font_size=label.font_size,
        bold=label.bold,
        text_size=(label.width, None),
        shorten=label.shorten,
    )
    probe.texture_update()
    if probe.texture_size[1] > label.height + 0.5:
        problems.append(f"{label.text!r} needs {probe.texture_size[1]} px, has {label.height}")
    if probe.is_shortened and not label.shorten:
        problems.append(f"{label.text!r} is cut")
    if not label.shorten:
        for word in label.text.split():
            if probe._label.get_extents(word)[0] > label.width + 0.5:
                problems.append(f"{word!r} of {label.text!r} is broken across lines")
    return problems


def contains(outer: tuple[float, ...], inner: tuple[float, ...]) -> bool:
    return (
        inner[0] >= outer[0] - 0.5
        and inner[1] >= outer[1] - 0.5
        and inner[2] <= outer[2] + 0.5
        and inner[3] <= outer[3] + 0.5
    )


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


@dataclass(frozen=True)
class Picture:
    """A PNG's pixels: RGBA, rows from the top down, as the file has them."""

    width: int
    height: int
    pixels: bytes

    @classmethod
    def load(cls, path: Path) -> "Picture":
        texture = CoreImage(str(path), nocache=True).texture
        return cls(texture.width, texture.height, bytes(texture.pixels))

    def rgb(self, x: int, y: int) -> tuple[int, int, int]:
        """The colour at window position (x, y): y counts up from the bottom, as in Kivy."""
        index = ((self.height - 1 - y) * self.width + x) * 4
        red, green, blue = self.pixels[index : index + 3]
        return red, green, blue

    def region(self, rect: tuple[float, float, float, float]) -> list[tuple[int, int, int]]:
        """The pixels inside window rectangle (x, y, right, top)."""
        x0, y0 = max(0, int(rect[0])), max(0, int(rect[1]))
        x1, y1 = min(self.width, int(rect[2])), min(self.height, int(rect[3]))
        return [self.rgb(x, y) for y in range(y0, y1) for x in range(x0, x1)]


def luminance_variance(pixels: list[tuple[int, int, int]]) -> float:
    values = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in pixels]
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def inked_share(pixels: list[tuple[int, int, int]]) -> float:
    """The share of pixels that differ clearly from the region's commonest colour."""
    counts: dict[tuple[int, int, int], int] = {}
    for pixel in pixels:
        counts[pixel] = counts.get(pixel, 0) + 1
    ground = max(counts, key=counts.__getitem__)
    inked = sum(1 for p in pixels if sum(abs(a - b) for a, b in zip(p, ground, strict=True)) > 60)
    return inked / len(pixels)


def check_screenshot(screens: KioskScreens, path: Path, texts: list[str]) -> None:
    """``path`` is the window's size, not blank, and shows each of ``texts`` where its label is."""
    picture = Picture.load(path)
    assert (picture.width, picture.height) == tuple(Window.size)
    step = max(1, picture.width // 200)
    sample = [
        picture.rgb(x, y)
        for y in range(0, picture.height, step)
        for x in range(0, picture.width, step)
    ]
    assert luminance_variance(sample) > 100, f"{path} looks blank"
    for text in texts:
        rect = window_rect(screens.label(text))
        share = inked_share(picture.region(rect))
        assert share > 0.02, f"{text!r} does not show in {path} at {rect} ({share:.3f})"
