"""Kivy's environment and settings for a kiosk, applied before Kivy is imported.

Kivy reads environment variables when ``kivy`` is first imported and its
window settings when :mod:`kivy.core.window` is, so :func:`prepare_kivy`
must run first. Input: on Linux Kivy's default ``[input]`` section also
probes ``/sys`` for touchscreens (``probesysfs``, which uses the ``mtdev``
provider, or ``hidinput`` on a Raspberry Pi); those defaults are kept, and
the mouse provider ignores a mouse while such a touch is active so one
finger is never counted twice.
"""

import logging
import os
import sys
from pathlib import Path

from kiosk.config import DisplaySection

log = logging.getLogger(__name__)


def kivy_environment(kivy_home: Path, *, offscreen: bool) -> dict[str, str]:
    """The environment variables Kivy must see on import."""
    env = {
        "KIVY_HOME": str(kivy_home),
        "KIVY_NO_ARGS": "1",  # argv belongs to hubtap-kiosk, not to Kivy
        "KIVY_NO_CONSOLELOG": "1",  # logging belongs to the service
        "KIVY_NO_FILELOG": "1",
        "KIVY_LOG_MODE": "PYTHON",
        "SDL_VIDEO_ALLOW_SCREENSAVER": "0",
    }
    if offscreen:
        env["SDL_VIDEODRIVER"] = "offscreen"
    return env


def kivy_settings(display: DisplaySection) -> dict[tuple[str, str], str]:
    """``kivy.config.Config`` values for ``display``, keyed by (section, option)."""
    return {
        ("graphics", "fullscreen"): "auto" if display.fullscreen else "0",
        ("graphics", "width"): str(display.width),
        ("graphics", "height"): str(display.height),
        ("graphics", "maxfps"): str(display.max_fps),
        ("graphics", "rotation"): str(display.rotation),
        ("graphics", "show_cursor"): "1" if display.show_cursor else "0",
        ("graphics", "allow_screensaver"): "0",
        ("input", "mouse"): "mouse,disable_multitouch,disable_on_activity",
        ("kivy", "exit_on_escape"): "0",
    }


def prepare_kivy(display: DisplaySection, kivy_home: Path, *, offscreen: bool) -> None:
    """Set Kivy's environment and ``Config`` for ``display``; call before any other Kivy import.

    ``kivy_home`` (created if missing) holds Kivy's own ``config.ini``;
    ``offscreen`` renders without a display (tests, screenshots, the demo).
    """
    if "kivy.core.window" in sys.modules:
        log.warning("Kivy's window exists already: the display settings come too late")
    elif "kivy" in sys.modules:
        log.warning("Kivy was imported already: its environment comes too late")
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(kivy_environment(kivy_home, offscreen=offscreen))
    from kivy.config import Config  # noqa: PLC0415 (reads the environment just set)

    for (section, option), value in kivy_settings(display).items():
        if not Config.has_section(section):
            Config.add_section(section)
        Config.set(section, option, value)
