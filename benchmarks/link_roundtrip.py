"""Round-trip latency of a DoorCommand through two Links vs two bare paho clients.

Strict ping-pong, one QoS 1 message in flight: each latency runs from just
before publish to the subscriber's callback (the Link handler, after decoding
and validation; paho's ``on_message``, raw bytes). Both pairs run paho's
network loop under ``loop_start()``, are connected to the same Mosquitto at
once, each on its own topic, and are measured in alternating blocks, so drift
in the machine's speed hits both alike.
"""

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from benchmarks.common import (
    CONNECT_TIMEOUT_S,
    SITE,
    BenchmarkError,
    Counter,
    Result,
    latency_summary,
    main_alone,
    mqtt_config,
    paho_client,
    prime,
)
from hublink.link import Delivery, Link
from hublink.messages import DOOR_COMMAND, DoorCommand, utcnow
from hublink.topics import Topics

DEFAULT_COUNT = 10_000
WARMUP = 200
ROUNDS = 5
MESSAGE_TIMEOUT_S = 5.0
RATIO_MAX = 1.5
QUANTILES = ("p50", "p90", "p99", "mean")

Send = Callable[[], None]
Pair = tuple[Send, Counter]


def run(port: int, count: int = DEFAULT_COUNT) -> Result:
    """Measure ``count`` round trips through each pair against the broker on ``port``."""
    topics = Topics(SITE)
    command = DoorCommand(
        action="unlock", duration_s=5, expires_at=utcnow() + timedelta(hours=1), issued_by="bench"
    )
    payload = command.model_dump_json().encode()
    assert payload == DOOR_COMMAND.encode(command), "paho must send the bytes the Link sends"
    result: Result = {
        "benchmark": "link_roundtrip",
        "count": count,
        "warmup": WARMUP,
        "rounds": ROUNDS,
        "qos": 1,
        "payload_bytes": len(payload),
        "link_paho_ratio_max": RATIO_MAX,
    }
    started = time.perf_counter()
    try:
        with ExitStack() as stack:
            pairs = {
                "link": stack.enter_context(_link_pair(port, topics, command)),
                "paho": stack.enter_context(_paho_pair(port, topics, payload)),
            }
            latencies: dict[str, list[float]] = {name: [] for name in pairs}
            for send, received in pairs.values():
                prime(send, received)
                _ping_pong(send, received, WARMUP)
            for size in _blocks(count, ROUNDS):
                for name, (send, received) in pairs.items():
                    latencies[name] += _ping_pong(send, received, size)
    except BenchmarkError as err:
        result.update(error=str(err), meets_target=False)
        return result
    for name, values in latencies.items():
        result[name] = latency_summary(values)
    ratios = {q: round(result["link"][f"{q}_us"] / result["paho"][f"{q}_us"], 3) for q in QUANTILES}
    result["ratios"] = ratios
    result["meets_target"] = max(ratios["p50"], ratios["p99"]) <= RATIO_MAX
    result["duration_s"] = round(time.perf_counter() - started, 2)
    return result


@contextmanager
def _link_pair(port: int, topics: Topics, command: DoorCommand) -> Iterator[Pair]:
    """A publisher and a subscriber Link: how to send one command, and the count received."""
    topic = topics.door_command("bench-link")
    received = Counter()

    def on_command(delivery: Delivery[Any]) -> None:
        received.increment()

    def send() -> None:
        if not publisher.publish(topic, command):
            raise BenchmarkError("the publisher Link dropped a command (not connected)")

    config = mqtt_config(port)
    subscriber = Link(config, topics, client_id="bench-link-sub")
    subscriber.subscribe(topic, on_command)
    publisher = Link(config, topics, client_id="bench-link-pub")
    with subscriber, publisher:
        for link in (subscriber, publisher):
            if not link.wait_connected(CONNECT_TIMEOUT_S):
                raise BenchmarkError(f"{link.client_id} did not connect")
        yield send, received


@contextmanager
def _paho_pair(port: int, topics: Topics, payload: bytes) -> Iterator[Pair]:
    """A publisher and a subscriber paho client: how to send the payload, and the count."""
    topic = topics.door_command("bench-paho")  # a topic per pair: no cross-traffic
    received = Counter()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        received.increment()

    def send() -> None:
        info = publisher.publish(topic, payload, qos=1)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise BenchmarkError(f"paho publish failed: {mqtt.error_string(info.rc)}")

    with (
        paho_client(port, "bench-paho-sub") as subscriber,
        paho_client(port, "bench-paho-pub") as publisher,
    ):
        subscriber.on_message = on_message
        subscriber.subscribe(topic, qos=1)
        yield send, received


def _ping_pong(send: Send, received: Counter, count: int) -> list[float]:
    """Send ``count`` messages one at a time; the latency of each, in seconds."""
    latencies: list[float] = []
    gc.collect()
    for i in range(count):
        target = received.value + 1
        start = time.perf_counter()
        send()
        if not received.wait_for(target, MESSAGE_TIMEOUT_S):
            raise BenchmarkError(f"message {i} not received within {MESSAGE_TIMEOUT_S:g} s")
        latencies.append(received.last_at - start)
    return latencies


def _blocks(count: int, rounds: int) -> list[int]:
    """Split ``count`` into ``rounds`` nearly equal blocks."""
    return [count // rounds + (1 if i < count % rounds else 0) for i in range(rounds)]


if __name__ == "__main__":
    raise SystemExit(main_alone(run, __doc__, DEFAULT_COUNT))
