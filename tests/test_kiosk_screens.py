"""The kiosk's Kivy screens, offscreen: real widgets over a real model, driven by touches.

Every button here is pressed by a simulated finger on the widget's place
on the window; the model is only told about taps, answers and the link,
as the kiosk's other threads tell it. Screenshots go to
``build/artifacts/kiosk/``.
"""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kivy.config import Config
from kivy.core.window import Window

from hublink.messages import KioskResponse
from kiosk.config import DisplaySection
from kiosk.ui import theme
from kiosk.ui.screens import IdleScreen
from kiosk.ui.setup import kivy_environment, kivy_settings
from tests.helpers.kiosk_screens import (
    ASA,
    SIZES,
    STRANGER,
    KioskScreens,
    check_screenshot,
    in_thread,
    window_rect,
)


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[KioskScreens]:
    screens = KioskScreens(tmp_path)
    yield screens
    screens.close()


def tap(
    kiosk: KioskScreens, credential: str = ASA, *, granted: bool = True, reason: str = ""
) -> None:
    """A card at the followed door, reported from the link's thread."""
    in_thread(lambda: kiosk.model.tap(credential, granted=granted, reason=reason))


def to_name_entry(kiosk: KioskScreens) -> None:
    tap(kiosk)
    kiosk.wait_for(kiosk.shows("badge"))
    kiosk.press("Register a guest", then="name_entry")


# --- the member's way through the screens -----------------------------------------


def test_a_tap_then_a_signup_by_touch_reaches_the_hub_and_the_answer_shows(kiosk):
    assert kiosk.kind == "idle"
    idle = kiosk.screenshot("idle")
    check_screenshot(kiosk, idle, ["10:00", "26 people here now", "Forest glade", "Rooms"])
    assert "Room to work" in kiosk.texts()  # a zone's level in words, beside its bar

    tap(kiosk)
    kiosk.wait_for(kiosk.shows("badge"))
    greeting = kiosk.label("Hej, Åsa!")
    assert greeting.font_size > 3 * theme.FONT["title"]  # large type, not a heading
    check_screenshot(kiosk, kiosk.screenshot("badge"), ["Hej, Åsa!", "Sign up for an event"])

    kiosk.press("Sign up for an event", then="choice")
    assert kiosk.label("Which event?")
    check_screenshot(kiosk, kiosk.screenshot("signup-choice"), ["Storytelling", "Friday fika"])
    kiosk.press("Storytelling", then="choice")
    kiosk.press("Me and 1 colleague", then="confirm")
    lines = [
        "Storytelling",
        "Today 15:00–16:00",
        "Me and 1 colleague",
        "Not enough seats left: you will go on the waitlist.",
    ]
    assert all(line in kiosk.texts() for line in lines)
    check_screenshot(kiosk, kiosk.screenshot("signup-confirm"), [*lines, "Sign me up"])

    kiosk.press("Sign me up", then="answer")
    signup = kiosk.sender.last("signup")
    assert signup.credential == ASA
    assert signup.params == {"event_id": "ev1", "guests": 1}
    assert kiosk.sender.actions() == ["today", "signup"]
    assert kiosk.label("One moment…")

    model = kiosk.model
    response = KioskResponse(
        request_id=signup.id, ok=True, reason="waitlisted", data={"waitlist_position": 2}
    )
    in_thread(lambda: model.answer(response))
    kiosk.wait_for(lambda: "Done!" in kiosk.texts())
    message = "Storytelling is full: you are number 2 on the waitlist."
    check_screenshot(kiosk, kiosk.screenshot("answer"), ["Done!", message])

    kiosk.time.advance(model.settings.result_s + 1)
    kiosk.wait_for(kiosk.shows("idle"), timeout=3)  # the app's 1 s tick ran the timeout
    assert "Hej, Åsa!" not in kiosk.texts()


def test_a_refused_card_gets_a_friendly_reason_and_no_name(kiosk):
    tap(kiosk, STRANGER, granted=False, reason="credential_suspended")
    kiosk.wait_for(kiosk.shows("denied"))
    reason = "This card is not active — please ask a host."
    assert reason in kiosk.texts()
    assert not any("Åsa" in text or "Hej" in text for text in kiosk.texts())
    check_screenshot(kiosk, kiosk.screenshot("denied"), ["Sorry!", reason, "OK"])
    kiosk.press("OK", then="idle")


def test_the_offline_banner_shows_while_the_link_is_down(kiosk):
    assert kiosk.banners() == []
    in_thread(lambda: kiosk.feeds.link_status(False))
    offline = "Offline — showing what the hub said at 10:00"
    kiosk.wait_for(lambda: offline in kiosk.texts())
    (banner,) = kiosk.banners()
    assert banner.label.text == offline
    assert window_rect(banner)[1] > window_rect(kiosk.label("Campfire circle"))[3]  # on top
    check_screenshot(kiosk, kiosk.screenshot("offline"), [offline, "Campfire circle", "10:00"])

    tap(kiosk)  # the badge says so too
    kiosk.wait_for(kiosk.shows("badge"))
    assert "Offline — requests are saved and sent later" in kiosk.texts()
    kiosk.press("Done", then="idle")

    in_thread(lambda: (kiosk.feeds.link_status(True), kiosk.feeds.hub_status(True)))
    kiosk.wait_for(lambda: kiosk.banners() == [])
    assert offline not in kiosk.texts()


def test_a_guest_name_typed_on_the_keys_ends_in_a_guest_request(kiosk):
    to_name_entry(kiosk)
    assert kiosk.label("First name")  # the placeholder
    kiosk.press("B", then="name_entry")
    kiosk.press("O", then="name_entry")
    assert kiosk.label("Bo")
    check_screenshot(kiosk, kiosk.screenshot("name-entry"), ["Bo", "Q", "Ö", "Continue"])
    kiosk.press("Continue", then="confirm")
    assert "Tap the card Bo will carry today on the reader." in kiosk.texts()
    tap(kiosk, STRANGER, granted=False, reason="unknown_credential")  # a visitor card
    kiosk.wait_for(lambda: "With the card you tapped." in kiosk.texts())
    assert "Bo will be your guest today." in kiosk.texts()
    kiosk.press("Register Bo", then="answer")
    guest = kiosk.sender.last("guest")
    assert guest.params == {"first_name": "Bo", "card": STRANGER}
    assert guest.credential == ASA


def test_a_disabled_button_is_drawn_faded_and_does_nothing(kiosk):
    to_name_entry(kiosk)
    model = kiosk.model
    revision, sent = model.revision, list(kiosk.sender.sent)
    for label in ("Continue", "Delete"):  # nothing typed yet
        button = kiosk.button(label)
        assert button.disabled
        assert button.colours == theme.DISABLED
        kiosk.touch(button)
        kiosk.pump()
    assert model.revision == revision
    assert kiosk.sender.sent == sent
    assert kiosk.kind == "name_entry"
    kiosk.press("B", then="name_entry")  # the same place works once it is enabled
    assert not kiosk.button("Continue").disabled


def test_a_touch_anywhere_keeps_the_screen_up(kiosk):
    tap(kiosk)
    kiosk.wait_for(kiosk.shows("badge"))
    model = kiosk.model
    kiosk.time.advance(model.settings.badge_s - 2)
    greeting = kiosk.label("Hej, Åsa!")
    kiosk.touch(greeting)  # not a button
    kiosk.time.advance(4)  # past the first deadline, not the one the touch set
    model.tick()
    kiosk.pump()
    assert kiosk.kind == "badge"
    kiosk.time.advance(model.settings.badge_s)
    model.tick()
    kiosk.wait_for(kiosk.shows("idle"))


# --- layout ------------------------------------------------------------------


def visit_every_screen(kiosk: KioskScreens) -> Iterator[str]:
    """Bring up each kind of screen (by touch, in any language); yield its name when drawn."""
    model = kiosk.model

    def go(*steps: tuple[str, str]) -> None:
        for button_id, then in steps:
            kiosk.press(button_id, then, by_id=True)

    yield "idle"
    in_thread(lambda: kiosk.feeds.link_status(False))
    kiosk.wait_for(lambda: bool(kiosk.banners()))
    yield "offline"
    tap(kiosk)
    kiosk.wait_for(kiosk.shows("badge"))
    yield "badge-offline"
    go(("signup", "choice"), ("event:ev1", "choice"), ("guests:2", "confirm"))
    yield "signup-confirm"
    go(("confirm", "answer"))
    yield "answer-queued"  # the longest message: saved, goes out later
    go(("done", "idle"))
    in_thread(lambda: (kiosk.feeds.link_status(True), kiosk.feeds.hub_status(True)))
    kiosk.wait_for(lambda: not kiosk.banners())
    queued = kiosk.sender.last("signup")
    response = KioskResponse(request_id=queued.id, ok=False, reason="full", data={})
    in_thread(lambda: model.answer(response))
    tap(kiosk)
    kiosk.wait_for(kiosk.shows("badge"))
    yield "badge-earlier-answer"
    go(("signup", "choice"))
    yield "signup-choice"
    go(("event:ev1", "choice"))
    yield "signup-guests"
    go(("guests:2", "confirm"), ("confirm", "answer"))
    yield "answer"
    go(("done", "idle"))
    tap(kiosk)
    kiosk.wait_for(kiosk.shows("badge"))
    go(("guest", "name_entry"), ("key:Å", "name_entry"))
    yield "name-entry"
    go(("back", "badge"), ("booking", "choice"))
    yield "booking-choice"
    go(("room:r1", "choice"))
    yield "booking-hours"
    go(("back", "choice"), ("back", "badge"), ("done", "idle"))
    tap(kiosk, STRANGER, granted=False, reason="outside_schedule")
    kiosk.wait_for(kiosk.shows("denied"))
    yield "denied"


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_screen_fits_the_window(tmp_path, size):
    kiosk = KioskScreens(tmp_path, size)
    try:
        for name in visit_every_screen(kiosk):
            assert kiosk.layout_problems() == [], name
    finally:
        kiosk.close()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_idle_layout_follows_the_orientation(tmp_path, size):
    kiosk = KioskScreens(tmp_path, size)
    try:
        zones, rooms = (
            window_rect(kiosk.label("Campfire circle")),
            window_rect(kiosk.label("Lookout room")),
        )
        if size[0] > size[1]:  # zones at the left, rooms and events at the right
            assert zones[2] <= rooms[0]
        else:  # stacked: zones above rooms
            assert zones[1] >= rooms[3]
        scale = min(size) / theme.REFERENCE_SIDE
        assert kiosk.label("10:00").font_size == pytest.approx(theme.FONT["clock"] * scale, abs=1)
        left_out = [t for t in kiosk.texts() if t.startswith("+")]
        assert left_out, "a long list is cut to what fits, and says how many are left out"
    finally:
        kiosk.close()


def test_the_layout_follows_a_resized_window(tmp_path):
    kiosk = KioskScreens(tmp_path, (800, 480))
    try:
        small = kiosk.label("10:00").font_size
        kiosk.resize((1280, 800))
        assert kiosk.label("10:00").font_size == pytest.approx(small * 800 / 480, abs=1)
        assert kiosk.layout_problems() == []
        check_screenshot(kiosk, kiosk.screenshot("idle"), ["10:00", "Campfire circle"])
        tap(kiosk)
        kiosk.wait_for(kiosk.shows("badge"))
        check_screenshot(kiosk, kiosk.screenshot("badge"), ["Hej, Åsa!", "Book a room now"])
    finally:
        kiosk.close()


def test_swedish_texts_fit_too(tmp_path):
    kiosk = KioskScreens(tmp_path, (800, 480), language="sv")
    try:
        for name in visit_every_screen(kiosk):
            assert kiosk.layout_problems() == [], name
    finally:
        kiosk.close()


# --- the app's plumbing --------------------------------------------------------


def test_the_idle_screen_is_not_rebuilt_by_the_clock(kiosk):
    builds = kiosk.app.builds
    screen = kiosk.app.screen
    model = kiosk.model
    assert isinstance(screen, IdleScreen)
    for _ in range(3):  # seconds pass: nothing changes
        model.tick()
        kiosk.pump()
    assert kiosk.app.builds == builds
    kiosk.time.advance(60)  # a new minute: only the clock's text changes
    model.tick()
    kiosk.wait_for(lambda: "10:01" in kiosk.texts())
    assert kiosk.app.builds == builds
    assert kiosk.app.screen is screen
    in_thread(lambda: kiosk.feeds.link_status(False))  # a real change rebuilds
    kiosk.wait_for(lambda: bool(kiosk.banners()))
    assert kiosk.app.builds == builds + 1


def test_new_screens_are_saved_by_kind_and_each_new_revision_is_reported(tmp_path):
    shots = tmp_path / "shots"
    kiosk = KioskScreens(tmp_path, screenshot_dir=shots)
    frames: list[int] = []
    kiosk.app.on_frame = frames.append
    try:
        kiosk.pump()
        assert (shots / "idle.png").is_file()
        model = kiosk.model
        tap(kiosk)
        kiosk.wait_for(lambda: bool(frames) and frames[-1] == model.revision)
        assert kiosk.kind == "badge"
        check_screenshot(kiosk, shots / "badge.png", ["Hej, Åsa!"])
        assert frames == sorted(set(frames))  # each revision once, in order
        count = len(frames)
        kiosk.pump(5)
        assert len(frames) == count  # no new revision, no report
        assert not list(shots.glob(".*partial*"))
    finally:
        kiosk.close()


def test_setting_stop_ends_the_app_within_a_second(kiosk, monkeypatch):
    stop = threading.Event()
    kiosk.app.stop_event = stop
    stopped = threading.Event()
    monkeypatch.setattr(kiosk.app, "stop", stopped.set)
    kiosk.pump(3)
    assert not stopped.is_set()
    stop.set()
    kiosk.wait_for(stopped.is_set, timeout=2.5)


def test_kivy_is_set_up_for_a_kiosk():
    settings = kivy_settings(DisplaySection(fullscreen=True, max_fps=20, show_cursor=False))
    assert settings[("graphics", "fullscreen")] == "auto"
    assert settings[("graphics", "maxfps")] == "20"
    assert settings[("graphics", "show_cursor")] == "0"
    assert settings[("kivy", "exit_on_escape")] == "0"
    assert settings[("graphics", "allow_screensaver")] == "0"  # Kivy's window obeys this one
    assert "disable_multitouch" in settings[("input", "mouse")].split(",")
    windowed = kivy_settings(DisplaySection(fullscreen=False, width=1024, height=600))
    assert windowed[("graphics", "fullscreen")] == "0"
    assert (windowed[("graphics", "width")], windowed[("graphics", "height")]) == ("1024", "600")
    env = kivy_environment(Path("/tmp/k"), offscreen=False)
    assert env["KIVY_NO_ARGS"] == env["KIVY_NO_CONSOLELOG"] == "1"
    assert env["KIVY_LOG_MODE"] == "PYTHON"
    assert env["SDL_VIDEO_ALLOW_SCREENSAVER"] == "0"
    assert "SDL_VIDEODRIVER" not in env
    # what tests/conftest.py applied before Kivy was imported
    assert Config.get("input", "mouse") == "mouse,disable_multitouch,disable_on_activity"
    assert Config.getint("kivy", "exit_on_escape") == 0
    assert Config.getint("graphics", "maxfps") == 120
    assert Window.__class__.__name__ == "WindowSDL"


def test_buttons_scale_with_the_window(tmp_path):
    kiosk = KioskScreens(tmp_path, (1280, 800))
    try:
        tap(kiosk)
        kiosk.wait_for(kiosk.shows("badge"))
        assert min(b.height for b in kiosk.buttons()) >= theme.MIN_BUTTON * 800 / 480
    finally:
        kiosk.close()
