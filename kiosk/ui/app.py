"""The Kivy app: draws the model's current view and tells the model about touches.

Import this module only after :func:`kiosk.ui.setup.prepare_kivy`. The
model may change from any thread (the link, the card reader); its
``on_change`` is a Clock trigger, so the screen is redrawn on Kivy's thread
at the next frame, and rebuilt only when the view itself changed.

Garbage: a rebuilt screen leaves its old widgets in reference cycles
(Kivy's bindings), which only Python's full collection frees. Left to
itself, that collection comes at a random frame and, with textures to
free, takes 30-160 ms: a greeting drawn late. So everything alive after
the first frame is frozen out of the collector (``gc.freeze``), and the
old screen is collected right after the new one is on the glass, when a
pause costs nobody anything.
"""

import gc
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.floatlayout import FloatLayout

from kiosk.config import DisplaySection
from kiosk.model import KioskModel
from kiosk.ui import theme
from kiosk.ui.screens import Screen, Ui, build_screen
from kiosk.ui.theme import Metrics
from kiosk.views import Button, ScreenView

log = logging.getLogger(__name__)

TICK_S = 1.0
"""How often the model is ticked (timeouts, the clock) and ``stop`` is looked at."""


class KioskRoot(FloatLayout):  # type: ignore[misc]
    """The window's content: one screen; any touch anywhere counts as activity."""

    def __init__(self, on_touch: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_touch = on_touch

    def on_touch_down(self, touch: Any) -> bool:
        """Keep the current screen up longer, then let the touched widget have it."""
        self._on_touch()
        return bool(super().on_touch_down(touch))


class KioskApp(App):  # type: ignore[misc]
    """The kiosk's screens over a :class:`kiosk.model.KioskModel`.

    ``stop`` (set from any thread) ends the app within a second.
    With ``screenshot_dir``, every screen that appears is also saved as
    ``<kind>.png`` there (the latest of each kind). ``on_frame`` is called
    with the model's revision once a frame showing a new revision is on
    the screen (the benchmark's hook).
    """

    use_kivy_settings = False

    def __init__(
        self,
        model: KioskModel,
        display: DisplaySection,
        *,
        stop: threading.Event | None = None,
        screenshot_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.display = display
        self.stop_event = stop
        self.screenshot_dir = screenshot_dir
        self.title = model.settings.title
        self.on_frame: Callable[[int], None] | None = None
        self.screen: Screen | None = None
        self.view: ScreenView | None = None
        self.shown_revision = -1
        self.builds = 0
        """How many times a screen was built (not just updated in place)."""
        self._collected_at = 0
        self._frozen = False
        self._kiosk_root: KioskRoot | None = None
        self._frame_revision: int | None = None
        self._shot_kind: str | None = None
        self._ticker: Any = None
        self._refresh_soon: Any = None
        self._rebuild_soon: Any = None

    # --- Kivy's App --------------------------------------------------------

    def build(self) -> KioskRoot:
        """The root widget, showing the model's view; starts following the model."""
        Window.clearcolor = theme.BACKGROUND
        root = KioskRoot(self.model.touch)
        self._kiosk_root = root
        self._refresh_soon = Clock.create_trigger(self._refresh)
        self._rebuild_soon = Clock.create_trigger(self._rebuild)
        self.model.on_change = self._refresh_soon
        self._ticker = Clock.schedule_interval(self._second, TICK_S)
        Window.fbind("size", self._rebuild_soon)
        Window.fbind("on_flip", self._flipped)
        self._render(rebuild=True)
        return root

    def on_stop(self) -> None:
        """Kivy's stop: let go of the model, the clock and the window."""
        self.close()

    def open_settings(self, *_: object) -> bool:
        """No settings panel on a kiosk (Kivy opens one on F1)."""
        return False

    def close(self) -> None:
        """Stop following the model and the window; safe to call twice."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
            self._refresh_soon.cancel()
            self._rebuild_soon.cancel()
            Window.funbind("size", self._rebuild_soon)
            Window.funbind("on_flip", self._flipped)
        if self.model.on_change is self._refresh_soon:
            self.model.on_change = lambda: None

    # --- for tests and the benchmark --------------------------------------

    def screenshot(self, path: Path) -> Path:
        """Draw the current screen and save it as a PNG at ``path``; the path."""
        Window.dispatch("on_draw")
        return _save_png(path)

    @property
    def metrics(self) -> Metrics:
        """The window's size as the screens see it."""
        width, height = Window.size
        return Metrics(float(width), float(height))

    # --- internals ---------------------------------------------------------

    def _press(self, button: Button) -> None:
        if button.enabled:
            self.model.press(button.id)

    def _second(self, _dt: float) -> bool | None:
        if self.stop_event is not None and self.stop_event.is_set():
            log.info("stopping the screens")
            self.stop()
            return False
        self.model.tick()
        return None

    def _refresh(self, *_: object) -> None:
        if self.model.revision != self.shown_revision:
            self._render()

    def _rebuild(self, *_: object) -> None:
        self._render(rebuild=True)

    def _render(self, *, rebuild: bool = False) -> None:
        """Show the model's view: rebuild the screen only if the view changed."""
        revision = self.model.revision
        view = self.model.view()
        changed = view != self.view
        if rebuild or (changed and (self.screen is None or not self.screen.update(view))):
            self._build(view)
        self.view = view
        self.shown_revision = revision
        self._frame_revision = revision
        if changed or rebuild:
            self._shot_kind = view.kind
        Window.canvas.ask_update()

    def _build(self, view: ScreenView) -> None:
        assert self._kiosk_root is not None
        screen = build_screen(view, Ui(self.metrics, self._press))
        self._kiosk_root.clear_widgets()
        self._kiosk_root.add_widget(screen)
        self.screen = screen
        self.builds += 1

    def _flipped(self, window: Any) -> bool | None:
        """Kivy calls on_flip handlers before it swaps the buffers: save the screenshot
        from the drawn back buffer, swap, then report the frame as shown."""
        revision, kind = self._frame_revision, self._shot_kind
        if revision is None:
            return None
        self._frame_revision = self._shot_kind = None
        if kind is not None and self.screenshot_dir is not None:
            try:
                _save_png(self.screenshot_dir / f"{kind}.png")
            except OSError as err:
                log.warning("could not save a screenshot: %s", err)
        window.flip()
        if self.on_frame is not None:
            try:
                self.on_frame(revision)
            except Exception:
                log.exception("the on_frame hook failed")
        if not self._frozen:
            gc.freeze()  # start-up's objects: never garbage, never scanned again
            self._frozen = True
        elif self.builds != self._collected_at:
            self._collected_at = self.builds
            Clock.schedule_once(_collect_garbage, 0)  # after this frame, not before it
        return True  # swapped already: Kivy must not swap again


def _collect_garbage(_dt: float) -> None:
    """Free the screens replaced since the last collection (see the module's docstring)."""
    gc.collect()


def _save_png(path: Path) -> Path:
    """Save the window's current back buffer at ``path`` (replaced atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = Window.screenshot(name=str(path.with_name(f".{path.stem}-partial.png")))
    if partial is None:
        raise OSError(f"the window gave no screenshot for {path}")
    os.replace(partial, path)
    return path
