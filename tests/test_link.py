"""The MQTT link against real brokers: Mosquitto and the embedded amqtt broker."""

import itertools
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub_server.demo import free_port
from hublink import link as link_module
from hublink.backoff import reconnect_delay
from hublink.errors import LinkError, MessageError, OutboxFull, TopicError
from hublink.link import Link
from hublink.messages import (
    AccessEvent,
    AclDelta,
    AlarmEvent,
    Availability,
    DoorCommand,
    DoorState,
    Message,
)
from hublink.outbox import Outbox
from hublink.topics import ANY, Topics
from tests.conftest import mqtt_config
from tests.helpers.brokers import Embedded, Mosquitto
from tests.helpers.collect import Collector
from tests.helpers.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
HASH = "cd" * 32


def door_link(port: int, topics: Topics, tmp_path: Path, door: str = "front", **kw) -> Link:
    return Link(
        mqtt_config(port, **kw.pop("mqtt", {})),
        topics,
        client_id=f"door-{door}",
        availability_topic=topics.door_availability(door),
        outbox=Outbox(tmp_path / f"{door}-outbox.sqlite3", synchronous="normal"),
        **kw,
    )


def hub_link(
    port: int,
    topics: Topics,
    subscribe: dict[str, Collector | Callable[..., None]] | None = None,
    *,
    dedupe: bool = False,
    **kw,
) -> Link:
    """A hub-like link, subscribed before it starts (so wait_connected covers the SUBACK)."""
    link = Link(mqtt_config(port), topics, client_id=kw.pop("client_id", "hub"), **kw)
    for topic_filter, handler in (subscribe or {}).items():
        link.subscribe(topic_filter, handler, dedupe=dedupe)
    return link


def raw_client(port: int) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="raw-test")
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def alarms(count: int, start: int = 0) -> list[AlarmEvent]:
    return [
        AlarmEvent(alarm="tamper", active=True, detail=str(i)) for i in range(start, start + count)
    ]


def details(messages: list[Message]) -> list[int]:
    return [int(m.detail) for m in messages if isinstance(m, AlarmEvent)]


def test_round_trip_with_ids_from_the_topic(broker, topics, tmp_path):
    events, states = Collector(), Collector()
    subscriptions = {topics.door_event(ANY): events, topics.door_state(ANY): states}
    hub = hub_link(broker.port, topics, subscriptions, dedupe=True)
    with hub, door_link(broker.port, topics, tmp_path) as door:
        assert hub.wait_connected(10)
        assert door.wait_connected(10)
        event = AccessEvent(reader_id="front-in", credential=HASH, granted=True, reason="granted")
        assert door.publish(topics.door_event("front"), event)
        assert door.publish(topics.door_state("front"), DoorState(lock="locked", acl_version=1))
        assert events.wait_for(1)
        assert states.wait_for(1)
    got = events.deliveries[0]
    assert got.message == event
    assert got.ids == {"door_id": "front"}
    assert got.spec.name == "door_event"
    assert states.messages[0].lock == "locked"


def statuses(deliveries: list) -> list[str]:
    return [d.message.status for d in deliveries]


def late_status(port: int, topics: Topics, client_id: str) -> tuple[str, bool]:
    """What a newcomer learns about door 'front' from its retained availability."""
    late = Collector()
    with hub_link(port, topics, {topics.door_availability("front"): late}, client_id=client_id):
        assert late.wait_for(1)
    return late.deliveries[0].message.status, late.deliveries[0].retained


def test_availability_is_retained_online_then_offline_on_a_clean_stop(broker, topics, tmp_path):
    seen = Collector()
    with hub_link(broker.port, topics, {topics.door_availability(ANY): seen}) as hub:
        assert hub.wait_connected(10)
        door = door_link(broker.port, topics, tmp_path).start()
        assert seen.wait_until(lambda d: statuses(d) == ["online"], 10)
        assert late_status(broker.port, topics, "late-1") == ("online", True)
        door.stop()
        door.stop()  # safe twice
        assert seen.wait_until(lambda d: statuses(d) == ["online", "offline"], 10)
    assert late_status(broker.port, topics, "late-2") == ("offline", True)


def start_publisher(port: int, outbox: Path, count: int, mode: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.publisher", str(port), str(outbox), str(count), mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "connected"
    return process


def test_last_will_marks_a_killed_device_offline(broker, topics, tmp_path):
    seen = Collector()
    with hub_link(broker.port, topics, {topics.door_availability(ANY): seen}) as hub:
        assert hub.wait_connected(10)
        process = start_publisher(broker.port, tmp_path / "o.sqlite3", 0, "hold")
        assert seen.wait_until(lambda d: "online" in statuses(d), 10)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()  # reaps it and closes its pipe
        assert seen.wait_until(lambda d: statuses(d)[-1] == "offline", 15)
    assert late_status(broker.port, topics, "late") == ("offline", True)  # the will is retained


WAIT_FOR_BACKLOG_S = 30


def waiting_in(outbox: Path) -> int:
    """Messages a (dead) process left in its outbox file."""
    with closing(sqlite3.connect(outbox)) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def wait_reconnected(link: Link, connects: int) -> bool:
    return wait_until(lambda: link.stats.connects >= connects and link.connected, 20)


def test_sigkill_mid_burst_loses_nothing_the_outbox_accepted(broker_process, topics, tmp_path):
    # The broker is paused, not stopped, to hold back acknowledgements: a broker that
    # stops drops what it acknowledged but had not yet delivered (amqtt clears its
    # queue), which is the broker's loss, not the outbox's.
    broker = broker_process
    outbox = tmp_path / "door.sqlite3"
    received = Collector()
    hub = hub_link(broker.port, topics, {topics.door_event(ANY): received}, dedupe=True)
    with hub:
        assert hub.wait_connected(10)
        process = start_publisher(broker.port, outbox, 100_000, "hold")
        assert process.stdout is not None
        accepted = [process.stdout.readline().strip() for _ in range(300)]
        broker.pause()  # nothing is acknowledged from here on: a backlog builds up
        # The pipe holds lines printed before the pause, so count the backlog itself;
        # reading keeps the publisher from blocking on a full pipe.
        deadline = time.monotonic() + WAIT_FOR_BACKLOG_S
        while waiting_in(outbox) < 300 and time.monotonic() < deadline:
            accepted += [process.stdout.readline().strip() for _ in range(100)]
        os.kill(process.pid, signal.SIGKILL)
        printed_before_dying, _ = process.communicate()
        accepted += printed_before_dying.split()  # accepted too
        assert len(accepted) < 100_000, "the kill must land mid-burst"
        backlog = waiting_in(outbox)
        assert backlog >= 300, "the kill must leave unacknowledged messages behind"

        broker.resume()
        drain = start_publisher(broker.port, outbox, 0, "drain")
        drain.communicate(timeout=60)
        assert drain.returncode == 0
        delivered = lambda: {x.message.id for x in received.deliveries}  # noqa: E731
        assert received.wait_until(lambda d: set(accepted) <= delivered(), 30), (
            f"lost {len(set(accepted) - delivered())} of {len(accepted)} accepted messages"
        )
    order = details(received.messages)
    assert order == sorted(order), "delivered out of order"
    assert len(order) == len(set(order)), "dedupe let a duplicate through"


def test_outage_with_mosquitto_delivers_everything_once_in_order(tmp_path, topics):
    broker = Mosquitto(tmp_path, persistence=True)  # the hub's session outlives the restart
    broker.start()
    received = Collector()
    try:
        hub = hub_link(broker.port, topics, clean_session=False)
        hub.subscribe(topics.door_event(ANY), received, dedupe=True)
        with hub:
            assert hub.wait_connected(10)
        broker.stop()
        with door_link(broker.port, topics, tmp_path) as door:
            for message in alarms(300):
                assert door.publish(topics.door_event("front"), message)
            assert not door.connected
            assert door.outbox is not None
            assert len(door.outbox) == 300
            broker.start()
            assert wait_until(lambda: len(door.outbox) == 0, 20)
            assert door.stats.outbox_acked == 300
        hub = hub_link(broker.port, topics, clean_session=False)  # the hub comes back
        hub.subscribe(topics.door_event(ANY), received, dedupe=True)
        with hub:  # the broker kept the hub's messages while it was away
            assert received.wait_for(300, 20)
            time.sleep(0.3)
    finally:
        broker.stop()
    assert details(received.messages) == list(range(300))


def test_outage_with_the_embedded_broker_delivers_everything_once_in_order(tmp_path, topics):
    broker = Embedded()
    broker.start()
    received = Collector()
    slow = {"reconnect_min_s": 3.0, "reconnect_max_s": 3.0}  # the hub resubscribes first
    try:
        with (
            hub_link(broker.port, topics, {topics.door_event(ANY): received}, dedupe=True) as hub,
            door_link(broker.port, topics, tmp_path, mqtt=slow) as door,
        ):
            assert hub.wait_connected(10)
            assert door.wait_connected(10)
            broker.stop()
            for message in alarms(300):
                assert door.publish(topics.door_event("front"), message)
            assert not door.connected
            broker.start()
            assert wait_reconnected(hub, 2)
            assert not door.connected, "premise: the hub must be subscribed before the door drains"
            assert received.wait_for(300, 30)
            time.sleep(0.3)  # room for a stray duplicate to show up
            assert door.stats.connects == 2
    finally:
        broker.stop()
    assert details(received.messages) == list(range(300))


def test_malformed_payloads_are_counted_while_good_messages_flow(broker, topics, tmp_path):
    received = Collector()
    bad_payloads = [
        b"\xff\xfe not utf-8",
        b"{not json",
        b"[]",
        json.dumps({"status": "online"}).encode(),  # no version
        json.dumps({"v": 9, "kind": "alarm", "alarm": "tamper", "active": True}).encode(),
        json.dumps({"v": 1, "kind": "access", "reader_id": 5}).encode(),
        b"x" * (70 * 1024),
        b"",
    ]
    hub = hub_link(broker.port, topics, {topics.door_event(ANY): received})
    with hub, door_link(broker.port, topics, tmp_path) as door:
        assert hub.wait_connected(10)
        assert door.wait_connected(10)
        raw = raw_client(broker.port)
        try:
            for i, message in enumerate(alarms(len(bad_payloads))):
                raw.publish(topics.door_event("front"), bad_payloads[i], qos=1).wait_for_publish(5)
                door.publish(topics.door_event("front"), message)
            assert received.wait_for(len(bad_payloads))
        finally:
            raw.loop_stop()
            raw.disconnect()
        wait_until(lambda: hub.stats.rejected >= len(bad_payloads), 5)
    assert hub.stats.rejected == len(bad_payloads)
    assert details(received.messages) == list(range(len(bad_payloads)))


def test_a_failing_handler_is_counted_logged_and_the_loop_survives(
    broker, topics, tmp_path, caplog
):
    received = Collector()

    def explode(delivery):
        if int(delivery.message.detail) % 2 == 0:
            raise RuntimeError("handler bug")
        received(delivery)

    hub = hub_link(broker.port, topics, {topics.door_event(ANY): explode})
    door = door_link(broker.port, topics, tmp_path)
    with caplog.at_level(logging.ERROR, logger="hublink.link"), hub, door:
        assert hub.wait_connected(10)
        assert door.wait_connected(10)
        for message in alarms(10):
            door.publish(topics.door_event("front"), message)
        assert received.wait_for(5)
    assert details(received.messages) == [1, 3, 5, 7, 9]
    assert hub.stats.handler_errors == 5
    assert caplog.text.count("handler for hubtap/testsite/door/+/event failed") == 5
    assert "RuntimeError: handler bug" in caplog.text


def test_duplicates_are_dropped_where_asked(broker, topics):
    deduped, everything = Collector(), Collector()
    message = AlarmEvent(alarm="tamper", active=True)
    payload = message.model_dump_json().encode()
    front = topics.door_event("front")
    with hub_link(broker.port, topics, {front: deduped}, dedupe=True) as hub:
        assert hub.wait_connected(10)
        with hub_link(broker.port, topics, {front: everything}, client_id="all") as other:
            assert other.wait_connected(10)
            raw = raw_client(broker.port)
            for _ in range(3):
                raw.publish(front, payload, qos=1).wait_for_publish(5)
            raw.loop_stop()
            raw.disconnect()
            assert everything.wait_for(3)
            assert wait_until(lambda: hub.stats.received == 3)
    assert len(deduped.deliveries) == 1
    assert hub.stats.duplicates == 2


def test_subscriptions_come_back_after_a_broker_restart(broker, topics, tmp_path):
    states = Collector()
    with hub_link(broker.port, topics, {topics.door_state(ANY): states}) as hub:
        assert hub.wait_connected(10)
        broker.stop()
        broker.start()  # a broker that forgot every session and subscription
        assert wait_reconnected(hub, 2)
        with door_link(broker.port, topics, tmp_path) as door:
            assert door.wait_connected(10)
            door.publish(topics.door_state("front"), DoorState(lock="locked", acl_version=1))
            assert states.wait_for(1, 15)


def test_retained_state_comes_back_after_a_broker_restart(broker, topics, tmp_path):
    states = Collector()
    state = DoorState(lock="locked", acl_version=4)
    with door_link(broker.port, topics, tmp_path) as door:
        assert door.wait_connected(10)
        door.publish(topics.door_state("front"), state)
        broker.stop()  # neither broker keeps retained messages across this restart
        broker.start()
        with hub_link(broker.port, topics, {topics.door_state(ANY): states}) as hub:
            assert states.wait_for(1, 15)  # the door re-sent its last retained state
            assert hub.stats.connects == 1
        door.publish(topics.door_state("front"), DoorState(lock="unlocked", acl_version=4))
        broker.stop()
        broker.start()
        later = Collector()
        with hub_link(broker.port, topics, {topics.door_state(ANY): later}, client_id="hub-2"):
            assert later.wait_for(1, 15)
    assert states.messages[0] == state
    assert later.messages[0].lock == "unlocked"  # the latest value, not the first


def test_the_contract_is_enforced_on_publish(embedded_broker, topics, tmp_path):
    hub = hub_link(embedded_broker.port, topics)
    with pytest.raises(TopicError, match="not a topic of the hubtap contract"):
        hub.publish("hubtap/testsite/door/front/party", Availability(status="online"))
    with pytest.raises(TopicError):
        hub.publish(topics.door_event(ANY), Availability(status="online"))
    with pytest.raises(MessageError, match="door state: cannot carry a Availability"):
        hub.publish(topics.door_state("front"), Availability(status="online"))
    with pytest.raises(LinkError, match="door_event is durable: this link needs an outbox"):
        hub.publish(topics.door_event("front"), AlarmEvent(alarm="tamper", active=True))
    with pytest.raises(TopicError):
        hub.subscribe("hubtap/testsite/#", Collector())


def test_while_disconnected_state_waits_and_other_messages_are_dropped(topics, tmp_path):
    port = free_port()
    door = door_link(port, topics, tmp_path).start()  # nothing listens there yet
    hub = hub_link(port, topics, client_id="commander").start()
    states = Collector()
    broker = Embedded(port)
    try:
        assert wait_until(lambda: door.stats.connect_failures >= 1)
        state = DoorState(lock="locked", acl_version=0)
        assert door.publish(topics.door_state("front"), state) is False  # kept for later
        assert door.stats.dropped == 0
        command = DoorCommand(action="unlock", expires_at=datetime.now(UTC), issued_by="hub")
        assert hub.publish(topics.door_command("front"), command) is False
        assert hub.stats.dropped == 1
        broker.start()
        with hub_link(port, topics, {topics.door_state(ANY): states}, client_id="late"):
            assert states.wait_for(1, 15)  # sent once the broker appeared
        assert states.messages[0] == state
    finally:
        door.stop()
        hub.stop()
        broker.stop()


def test_tls_problems_are_reported_before_connecting(topics, tmp_path):
    config = mqtt_config(8883, tls=True, ca_file=tmp_path / "missing-ca.pem")
    link = Link(config, topics, client_id="tls")
    with pytest.raises(LinkError, match="cannot set up TLS"):
        link.start()


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (500, 8.0)]
)
def test_reconnect_waits_grow_to_the_limit_with_jitter(attempt, ceiling):
    waits = [reconnect_delay(attempt, 0.5, 8.0) for _ in range(500)]
    assert min(waits) >= 0.5
    assert max(waits) <= ceiling
    if ceiling > 0.5:  # spread across the range, not one fixed value
        assert max(waits) - min(waits) > (ceiling - 0.5) * 0.5


def test_the_link_waits_between_attempts_and_starts_over_after_a_connection(
    topics, tmp_path, monkeypatch
):
    calls: list[tuple[int, float]] = []

    def recording_delay(attempt: int, shortest: float, longest: float) -> float:
        calls.append((attempt, time.monotonic()))
        return 0.15

    monkeypatch.setattr(link_module, "reconnect_delay", recording_delay)
    broker = Embedded()  # not started yet: the link's first attempts fail
    link = hub_link(broker.port, topics).start()
    try:
        assert wait_until(lambda: len(calls) >= 4)
        broker.start()
        assert link.wait_connected(10)
        failed_attempts = [attempt for attempt, _ in calls]
        assert failed_attempts[:4] == [0, 1, 2, 3]  # growing while it fails
        gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(calls)]
        assert min(gaps) >= 0.14  # it really waited the delay it was given
        before = len(calls)
        broker.stop()  # the connection is lost: the next wait starts from attempt 0
        assert wait_until(lambda: len(calls) > before)
        assert calls[before][0] == 0
    finally:
        link.stop()
        broker.stop()


def test_publishing_from_many_threads_keeps_packets_whole(broker, topics):
    """Large messages from several threads at once must not interleave on the socket."""
    received = Collector()
    removes = tuple(f"{i:064x}" for i in range(900))  # about 60 KB per message
    per_thread, threads = 40, 4
    with (
        hub_link(broker.port, topics, client_id="sender") as sender,
        hub_link(
            broker.port, topics, {topics.door_acl_delta(ANY): received}, client_id="receiver"
        ) as receiver,
    ):
        assert sender.wait_connected(10)
        assert receiver.wait_connected(10)

        def burst(door: str) -> None:
            for version in range(per_thread):
                delta = AclDelta(door_id=door, from_version=version, to_version=version + 1,
                                 removes=removes)  # fmt: skip
                sender.publish(topics.door_acl_delta(door), delta)

        workers = [threading.Thread(target=burst, args=(f"door{i}",)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert received.wait_for(per_thread * threads, 60)
        assert sender.stats.disconnects == 0  # a corrupt stream makes the broker hang up
    assert receiver.stats.rejected == 0
    for door in (f"door{i}" for i in range(threads)):
        versions = [m.to_version for m in received.messages if m.door_id == door]
        assert versions == list(range(1, per_thread + 1))  # each thread's order kept


def test_a_full_outbox_is_an_error_to_the_publisher_and_counted(topics, tmp_path):
    link = Link(
        mqtt_config(free_port()),
        topics,
        client_id="door-front",
        outbox=Outbox(tmp_path / "o.sqlite3", max_messages=2),
    )
    for message in alarms(2):
        assert link.publish(topics.door_event("front"), message)
    with pytest.raises(OutboxFull):
        link.publish(topics.door_event("front"), alarms(1)[0])
    assert link.stats.outbox_full == 1
    assert link.stats.queued == 2


def test_resubscribe_fetches_the_retained_message_again(broker, topics, tmp_path):
    states = Collector()
    with door_link(broker.port, topics, tmp_path) as door:
        assert door.wait_connected(10)
        door.publish(topics.door_state("front"), DoorState(lock="locked", acl_version=9))
        state_filter = topics.door_state(ANY)
        with hub_link(broker.port, topics, {state_filter: states}) as hub:
            assert states.wait_for(1, 15)
            assert hub.resubscribe(state_filter)
            assert states.wait_for(2, 15)  # the broker sent the retained state once more
            assert [s.acl_version for s in states.messages] == [9, 9]
            with pytest.raises(LinkError, match="not subscribed"):
                hub.resubscribe(topics.door_event(ANY))
    assert not hub.resubscribe(state_filter)  # stopped: nothing to send it on


def test_a_payload_subscription_gets_the_bytes_undecoded(embedded_broker, topics):
    payloads = Collector()
    snapshot_filter = topics.door_acl_snapshot(ANY)
    door = hub_link(embedded_broker.port, topics)
    door.subscribe_payload(snapshot_filter, payloads)  # before start: in place once connected
    with door:
        assert door.wait_connected(10)
        publisher = raw_client(embedded_broker.port)
        try:
            publisher.publish(topics.door_acl_snapshot("front"), b"not even json", qos=1)
            assert payloads.wait_for(1, 10)
        finally:
            publisher.loop_stop()
            publisher.disconnect()
    item = payloads.items[0]
    assert (item.data, item.ids, item.retained) == (b"not even json", {"door_id": "front"}, False)
    assert door.stats.rejected == 0  # the handler decodes, and counts what it refuses


def test_retained_state_set_while_the_subscribe_is_pending_is_sent(broker, topics, tmp_path):
    door = door_link(broker.port, topics, tmp_path)
    door.subscribe(topics.door_command("front"), Collector())
    connacked = threading.Event()
    on_connect, on_subscribe = door._on_connect, door._on_subscribe

    def slow_suback(*args):
        connacked.wait(5)
        time.sleep(0.3)  # the window between CONNACK and SUBACK, widened
        on_subscribe(*args)

    def mark_connect(*args):
        on_connect(*args)
        connacked.set()

    door._on_connect, door._on_subscribe = mark_connect, slow_suback
    states = Collector()
    with door:
        assert connacked.wait(10)
        assert not door.publish(topics.door_state("front"), DoorState(lock="locked", acl_version=3))
        assert door.wait_connected(10)
        with hub_link(broker.port, topics, {topics.door_state(ANY): states}):
            assert states.wait_for(1, 10)
    assert states.messages[0].acl_version == 3


def test_small_packets_go_out_at_once_without_nagle(mosquitto, topics):
    link = Link(mqtt_config(mosquitto.port), topics, client_id="nodelay")
    with link:
        assert link.wait_connected(10)
        sock = link._client.socket()  # type: ignore[union-attr]
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
