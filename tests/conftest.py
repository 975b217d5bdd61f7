"""Fixtures: real brokers on loopback, link configuration, topics."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from hublink.config import MqttConfig
from hublink.topics import Topics
from tests.helpers.brokers import (
    BrokerProcess,
    BrokerUnderTest,
    Embedded,
    EmbeddedProcess,
    Mosquitto,
)

SITE = "testsite"


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
