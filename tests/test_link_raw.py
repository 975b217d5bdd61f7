"""The link's topics outside the contract (``publish_raw``, ``subscribe_raw``), on real Mosquitto.

Home Assistant's discovery configs and status live outside ``hubtap/<site>/``;
its lock commands under ``hubtap/<site>/ha/``. The contract's own topics stay
behind the codecs: the raw calls refuse them.
"""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from hublink.errors import LinkError
from hublink.link import Link, RawMessage
from hublink.messages import DoorState
from hublink.topics import ANY, Topics, ha_lock_command, ha_lock_command_door
from tests.conftest import SITE, mqtt_config
from tests.helpers.brokers import Mosquitto
from tests.helpers.collect import Collector
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.mosquitto

WAIT_S = 10.0
TOPICS = Topics(SITE)
CONFIG = "homeassistant/sensor/hubtap_testsite/zone_a_people/config"


@dataclass(frozen=True)
class Seen:
    topic: str
    payload: bytes
    retained: bool


class Client:
    """A bare paho client, as Home Assistant or anyone else on the broker would be."""

    def __init__(self, port: int, client_id: str, *subscriptions: str) -> None:
        self.seen: list[Seen] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv311
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if subscriptions:
            self.client.subscribe([(topic, 1) for topic in subscriptions])
            assert self._subscribed.wait(WAIT_S), "no SUBACK"

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.seen.append(Seen(msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._cond.notify_all()

    def wait_until(self, check: Callable[[list[Seen]], bool], timeout: float = WAIT_S) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: check(self.seen), timeout)

    def items(self) -> list[Seen]:
        with self._cond:
            return list(self.seen)

    def clear(self) -> None:
        with self._cond:
            self.seen.clear()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(WAIT_S)
        assert info.is_published(), f"could not publish on {topic}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained_on(port: int, topic: str, client_id: str) -> list[bytes]:
    """What a newcomer subscribing to ``topic`` is given as retained: Mosquitto sends it
    right after the SUBACK, so before a marker published once subscribed."""
    marker = f"hubtap-test/marker/{client_id}"
    probe = Client(port, client_id, topic, marker)
    try:
        probe.publish(marker, b"end")
        assert probe.wait_until(lambda seen: any(x.topic == marker for x in seen))
        return [x.payload for x in probe.items() if x.topic == topic and x.retained]
    finally:
        probe.close()


class Raw:
    """Records what a raw handler is given."""

    def __init__(self, fail_first: int = 0) -> None:
        self.messages: list[RawMessage] = []
        self.fail_first = fail_first
        self._cond = threading.Condition()

    def __call__(self, message: RawMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()
            if len(self.messages) <= self.fail_first:
                raise RuntimeError("a handler that breaks")

    def wait_for(self, count: int) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.messages) >= count, WAIT_S)


@pytest.fixture
def link(mosquitto: Mosquitto) -> Iterator[Link]:
    made = Link(mqtt_config(mosquitto.port), TOPICS, client_id="hub-raw")
    yield made
    made.stop()


def test_a_raw_retained_publish_reaches_others_and_an_empty_one_clears_it(mosquitto, link):
    link.start()
    assert link.wait_connected(WAIT_S)
    assert link.publish_raw(CONFIG, b'{"name":"A"}', retain=True)
    assert retained_on(mosquitto.port, CONFIG, "late-1") == [b'{"name":"A"}']
    assert link.publish_raw(CONFIG, b"", retain=True)
    assert retained_on(mosquitto.port, CONFIG, "late-2") == []
    assert link.stats.published == 2


def test_raw_retained_values_come_back_after_a_broker_restart(mosquitto, link):
    link.start()
    assert link.wait_connected(WAIT_S)
    link.publish_raw(CONFIG, b'{"name":"A"}', retain=True)
    link.publish_raw(CONFIG.replace("zone_a", "zone_b"), b"", retain=True)
    mosquitto.stop()  # forgets every retained message
    mosquitto.start()
    assert wait_until(lambda: link.stats.connects == 2, WAIT_S)
    assert retained_on(mosquitto.port, CONFIG, "late") == [b'{"name":"A"}']


def test_a_raw_subscription_made_before_start_gets_retained_and_live_messages(mosquitto, link):
    ha = Client(mosquitto.port, "home-assistant")
    try:
        ha.publish("homeassistant/status", b"online", retain=True)
        status, commands = Raw(), Raw()
        link.subscribe_raw("homeassistant/status", status)
        link.subscribe_raw(ha_lock_command(TOPICS, ANY), commands)
        link.start()
        assert link.wait_connected(WAIT_S)
        assert status.wait_for(1)  # in place when wait_connected returned: the retained one
        ha.publish(ha_lock_command(TOPICS, "front"), b"UNLOCK")
        ha.publish("homeassistant/status", b"offline")
        assert commands.wait_for(1)
        assert status.wait_for(2)
    finally:
        ha.close()
    assert status.messages == [
        RawMessage("homeassistant/status", b"online", True),
        RawMessage("homeassistant/status", b"offline", False),
    ]
    assert commands.messages == [RawMessage("hubtap/testsite/ha/door/front/set", b"UNLOCK", False)]
    assert ha_lock_command_door(TOPICS, commands.messages[0].topic) == "front"
    assert link.stats.rejected == 0  # not the contract's: never decoded, never rejected


def test_raw_subscriptions_come_back_after_a_broker_restart(mosquitto, link):
    status = Raw()
    link.subscribe_raw("homeassistant/status", status)
    link.start()
    assert link.wait_connected(WAIT_S)
    mosquitto.stop()
    mosquitto.start()
    assert wait_until(lambda: link.stats.connects == 2 and link.connected, WAIT_S)
    ha = Client(mosquitto.port, "home-assistant")
    try:
        ha.publish("homeassistant/status", b"online")
        assert status.wait_for(1)
    finally:
        ha.close()


def test_a_raw_handler_that_raises_is_counted_and_the_next_message_arrives(mosquitto, link):
    status = Raw(fail_first=1)
    link.subscribe_raw("homeassistant/status", status)
    link.start()
    assert link.wait_connected(WAIT_S)
    ha = Client(mosquitto.port, "home-assistant")
    try:
        ha.publish("homeassistant/status", b"online")
        ha.publish("homeassistant/status", b"online")
        assert status.wait_for(2)
    finally:
        ha.close()
    assert link.stats.handler_errors == 1


def test_raw_and_contract_subscriptions_live_side_by_side(mosquitto, link):
    states, commands = Collector(), Raw()
    link.subscribe(TOPICS.door_state(ANY), states)
    link.subscribe_raw(ha_lock_command(TOPICS, ANY), commands)
    link.start()
    assert link.wait_connected(WAIT_S)
    other = Client(mosquitto.port, "anyone")
    try:
        other.publish(ha_lock_command(TOPICS, "front"), b"LOCK")
        other.publish(TOPICS.door_state("front"), DoorState(lock="locked", acl_version=1)
                      .model_dump_json().encode())  # fmt: skip
        other.publish(TOPICS.door_state("front"), b"LOCK")  # garbage on a contract topic
        assert commands.wait_for(1)
        assert states.wait_for(1)
        assert wait_until(lambda: link.stats.rejected == 1, WAIT_S)
    finally:
        other.close()
    assert [m.payload for m in commands.messages] == [b"LOCK"]
    assert states.messages[0].lock == "locked"


@pytest.mark.parametrize(
    "topic",
    [
        TOPICS.occupancy(),
        TOPICS.door_state("front"),
        TOPICS.door_command("front"),
        TOPICS.hub_availability(),
    ],
)
def test_raw_calls_refuse_the_contracts_topics(link, topic):
    with pytest.raises(LinkError, match="reaches the contract"):
        link.publish_raw(topic, b"{}", retain=True)
    with pytest.raises(LinkError, match="reaches the contract"):
        link.subscribe_raw(topic, Raw())


@pytest.mark.parametrize(
    "topic_filter",
    ["#", "hubtap/#", "hubtap/testsite/#", "hubtap/+/occupancy", "hubtap/testsite/door/+/+",
     "+/testsite/door/front/command", "hubtap/testsite/kiosk/#"],
)  # fmt: skip
def test_raw_subscriptions_refuse_filters_that_reach_the_contract(link, topic_filter):
    with pytest.raises(LinkError, match="reaches the contract"):
        link.subscribe_raw(topic_filter, Raw())


@pytest.mark.parametrize(
    "topic_filter",
    ["homeassistant/status", "homeassistant/#", "hubtap/testsite/ha/door/+/set",
     "hubtap/testsite/door/front/unknown", "hubtap/othersite/occupancy"],
)  # fmt: skip
def test_raw_subscriptions_take_filters_outside_the_contract(link, topic_filter):
    link.subscribe_raw(topic_filter, Raw())


@pytest.mark.parametrize("topic", ["homeassistant/+/config", "homeassistant/#", ""])
def test_raw_publishes_refuse_wildcards(link, topic):
    with pytest.raises(LinkError, match="not a topic name"):
        link.publish_raw(topic, b"", retain=True)


def test_a_raw_publish_while_disconnected(link):
    assert not link.publish_raw("homeassistant/status", b"x", retain=False)
    assert link.stats.dropped == 1
    assert not link.publish_raw(CONFIG, b"{}", retain=True)  # kept for the connection
    assert link.stats.dropped == 1


def test_the_lock_command_topic_builder_and_parser():
    topic = ha_lock_command(TOPICS, "front-1")
    assert topic == "hubtap/testsite/ha/door/front-1/set"
    assert ha_lock_command_door(TOPICS, topic) == "front-1"
    assert ha_lock_command(TOPICS, ANY) == "hubtap/testsite/ha/door/+/set"
    assert TOPICS.match(topic) is None  # not the contract's
    for other in (
        "hubtap/testsite/ha/door/front/get",
        "hubtap/othersite/ha/door/front/set",
        "hubtap/testsite/ha/door/bad id/set",
        "hubtap/testsite/ha/door/front/set/more",
    ):
        assert ha_lock_command_door(TOPICS, other) is None, other
    with pytest.raises(ValueError, match="cannot be used in a topic"):
        ha_lock_command(TOPICS, "a/b")
