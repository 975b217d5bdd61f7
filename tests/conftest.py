"""Fixtures: real brokers on loopback, link configuration, topics."""

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from hublink.config import MqttConfig
from hublink.topics import Topics
from kiosk.config import DisplaySection
from kiosk.ui.setup import prepare_kivy
from tests.helpers.brokers import (
    BrokerProcess,
    BrokerUnderTest,
    Embedded,
    EmbeddedProcess,
    Mosquitto,
)

# Kivy reads its environment and settings when it is first imported: set them up for the
# whole run before any test imports it (nothing above does): an offscreen window, Kivy's
# home in a temporary folder. The window is as large as the largest size tested, since an
# offscreen GL surface keeps its first size (smaller windows are drawn in its corner).
KIVY_HOME = Path(tempfile.mkdtemp(prefix="hubtap-kivy-"))
atexit.register(shutil.rmtree, KIVY_HOME, ignore_errors=True)
prepare_kivy(
    DisplaySection(fullscreen=False, width=1280, height=1280, max_fps=120),
    KIVY_HOME,
    offscreen=True,
)

SITE = "testsite"


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Browser]:
    """Debian's Chromium for one test module. Not for the session: Playwright's sync API
    keeps an event loop running on the main thread while it is open, and the embedded
    broker's tests need to start their own."""
    from tests.helpers.browser import chromium  # noqa: PLC0415  (it imports this module)

    with chromium() as browser:
        yield browser


@pytest.fixture
def topics() -> Topics:
    return Topics(SITE)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def embedded_broker() -> Iterator[Embedded]:
    broker = Embedded()
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(params=["mosquitto", "embedded"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BrokerUnderTest]:
    """Each link test runs against real Mosquitto and against the embedded broker."""
    chosen: BrokerUnderTest = Mosquitto(tmp_path) if request.param == "mosquitto" else Embedded()
    chosen.start()
    yield chosen
    chosen.stop()


@pytest.fixture(params=["mosquitto", "embedded"])
def broker_process(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BrokerProcess]:
    """A broker in its own process, which a test can pause (SIGSTOP) and resume."""
    chosen: BrokerProcess = (
        Mosquitto(tmp_path) if request.param == "mosquitto" else EmbeddedProcess(tmp_path)
    )
    chosen.start()
    yield chosen
    chosen.stop()


def mqtt_config(port: int, **overrides: object) -> MqttConfig:
    """Link settings for tests: loopback, quick reconnects."""
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.5,
    }
    values.update(overrides)
    return MqttConfig.model_validate(values)
