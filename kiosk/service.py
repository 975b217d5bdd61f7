"""Run one kiosk: cache, outbox, link, reader and model around the Kivy screens."""

import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from hardware.build import make_reader
from hardware.errors import HardwareError
from hardware.taps import CardTap
from hublink.credentials import credential_hash
from hublink.link import Link
from hublink.messages import utcnow
from hublink.runtime import open_outbox_or_exit, setup_logging
from hublink.systemd import notify
from hublink.topics import Topics
from kiosk import bus
from kiosk.cache import Cache
from kiosk.config import KioskConfig
from kiosk.errors import CacheError
from kiosk.feeds import Feeds
from kiosk.i18n import Translator
from kiosk.model import KioskModel
from kiosk.screen_file import write_screen

log = logging.getLogger(__name__)

STATUS_S = 0.25
"""How often the link's state is looked at (the offline banner follows within this)."""
HOUSEKEEPING_S = 3600.0


def run_kiosk(
    config: KioskConfig,
    stop: threading.Event,
    *,
    offscreen: bool = False,
    screenshot_dir: Path | None = None,
) -> None:
    """Run the kiosk until ``stop`` is set (or its window is closed)."""
    setup_logging(config.log_level)
    kiosk_id = config.kiosk.id
    topics = Topics(config.site.id)
    try:
        cache = Cache(config.data_dir / "kiosk.sqlite3")
    except CacheError as err:
        print(f"hubtap-kiosk: {err}", file=sys.stderr)
        raise SystemExit(1) from err
    if screenshot_dir is not None:
        screenshot_dir.mkdir(parents=True, exist_ok=True)
    with cache, open_outbox_or_exit(config) as outbox:
        link = Link(
            config.mqtt,
            topics,
            client_id=f"hubtap-kiosk-{kiosk_id}",
            availability_topic=topics.kiosk_availability(kiosk_id),
            outbox=outbox,
        )
        model, feeds = build_model(config, cache, bus.LinkSender(link, kiosk_id))
        bus.attach(link, kiosk_id, config.kiosk.door_id, feeds, model,
                   tap_max_age_s=config.kiosk.tap_max_age_s, clock=utcnow)  # fmt: skip
        reader = None
        if config.reader is not None:
            try:
                reader = make_reader(config.reader)
            except HardwareError as err:
                print(f"hubtap-kiosk: {err}", file=sys.stderr)
                raise SystemExit(1) from err
        watcher = threading.Thread(
            target=_watch, args=(link, feeds, model, stop), name="kiosk-status", daemon=True
        )
        with link:
            watcher.start()
            if reader is not None:
                reader.start(_on_card(config, model))
            try:
                _run_screens(config, model, stop, offscreen, screenshot_dir)
            finally:
                stop.set()
                notify("STOPPING=1")
                if reader is not None:
                    reader.close()
                watcher.join(2)


def build_model(
    config: KioskConfig,
    cache: Cache,
    sender: bus.LinkSender,
    clock: Callable[[], datetime] = utcnow,
) -> tuple[KioskModel, Feeds]:
    """The model and its feeds, started from what the cache holds."""
    model: KioskModel | None = None

    def changed(what: str) -> None:
        if model is not None:
            model.data_changed(what)

    feeds = Feeds(cache, changed, clock)
    feeds.load_cached()
    model = KioskModel(
        config.kiosk, feeds, cache, sender, Translator(config.kiosk.language), clock=clock
    )
    return model, feeds


def _on_card(config: KioskConfig, model: KioskModel) -> Callable[[CardTap], None]:
    key = config.site.key_bytes()

    def on_tap(tap: CardTap) -> None:
        model.tap(credential_hash(key, tap.uid), granted=None)

    return on_tap


def _watch(link: Link, feeds: Feeds, model: KioskModel, stop: threading.Event) -> None:
    """Follow the link's state; forget week-old requests now and then."""
    since_housekeeping = HOUSEKEEPING_S
    while not stop.wait(STATUS_S):
        try:
            feeds.link_status(link.connected)
            since_housekeeping += STATUS_S
            if since_housekeeping >= HOUSEKEEPING_S:
                since_housekeeping = 0.0
                model.forget_old_requests()
        except Exception:
            log.exception("kiosk status watcher failed; trying again")


def _run_screens(
    config: KioskConfig,
    model: KioskModel,
    stop: threading.Event,
    offscreen: bool,
    screenshot_dir: Path | None,
) -> None:
    """Run the Kivy screens in this (the main) thread until ``stop``."""
    from kiosk.ui.setup import prepare_kivy  # noqa: PLC0415 (Kivy reads its settings on import)

    prepare_kivy(config.display, config.data_dir / "kivy", offscreen=offscreen)
    from kivy.clock import Clock  # noqa: PLC0415

    from kiosk.ui.app import KioskApp  # noqa: PLC0415

    app = KioskApp(model, config.display, stop=stop, screenshot_dir=screenshot_dir)
    if screenshot_dir is not None:
        folder = screenshot_dir

        def drawn(revision: int) -> None:
            write_screen(folder, model.view(), revision, utcnow())

        app.on_frame = drawn
    Clock.schedule_interval(lambda dt: notify("WATCHDOG=1"), 1.0)
    Clock.schedule_once(lambda dt: notify("READY=1"), 0)
    log.info("kiosk %s running (%s)", config.kiosk.id, config.kiosk.language)
    app.run()
