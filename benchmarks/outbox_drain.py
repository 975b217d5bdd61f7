"""How fast a Link empties a full SQLite outbox into Mosquitto once it connects.

For each ``synchronous`` mode of the outbox: publish ``count`` AlarmEvents on a
durable topic while the Link is not started (they are committed to the outbox;
the enqueue rate is reported too), then start the Link and time from
``start()`` until the outbox is empty (every message acknowledged by the
broker). A subscriber Link with dedupe on every door's events, subscribed
before the drain, confirms that each message arrived.

The subscriber runs once in a separate process (as the hub would) and once in
the sender's process, where it competes with the sender for the GIL.
"""

import multiprocessing
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Literal, TypeVar

from benchmarks.common import (
    CONNECT_TIMEOUT_S,
    SITE,
    BenchmarkError,
    Counter,
    Result,
    main_alone,
    mqtt_config,
    paho_client,
    prime,
    rate,
    wait_until,
)
from hublink.link import Delivery, Link
from hublink.messages import DOOR_EVENT, AlarmEvent, Message
from hublink.outbox import Outbox
from hublink.topics import ANY, Topics

DEFAULT_COUNT = 10_000
DRAIN_RATE_MIN = 5000.0
DRAIN_TIMEOUT_S = 120.0
DELIVERY_TIMEOUT_S = 10.0
"""Seconds to wait for the subscriber after the drain, plus one per 1000 messages."""
CHILD_START_TIMEOUT_S = 30.0
CHILD_IDLE_TIMEOUT_S = 300.0
"""How long the subscriber process waits to be asked for its report."""
POLL_S = 0.005
DOOR = "bench"
PROBE_DOOR = "probe"

Mode = Literal["full", "normal"]
MODES: tuple[Mode, ...] = ("full", "normal")
PLACEMENTS = ("separate_process", "same_process")
SENDER_STATS = ("connects", "disconnects", "queued", "outbox_sent", "outbox_acked")


@dataclass(frozen=True)
class Delivered:
    """What the subscriber got from the benchmark's door."""

    received: int
    ids: frozenset[str]
    last_at: float
    """:func:`time.perf_counter` at the last one (a system-wide clock on Linux)."""


T = TypeVar("T")

Collect = Callable[[float], Delivered]
"""Wait up to the given seconds for every message; what arrived."""


def run(port: int, count: int = DEFAULT_COUNT) -> Result:
    """Fill and drain an outbox of ``count`` messages per synchronous mode and placement."""
    modes = {
        mode: {placement: _fill_and_drain(port, count, mode, placement) for placement in PLACEMENTS}
        for mode in MODES
    }
    return {
        "benchmark": "outbox_drain",
        "count": count,
        "subscriber_placements": list(PLACEMENTS),
        "drain_rate_min": DRAIN_RATE_MIN,
        "modes": modes,
        "meets_target": all(r["meets_target"] for runs in modes.values() for r in runs.values()),
    }


@dataclass(frozen=True)
class Drained:
    """One offline fill and drain: times from ``start()``, and what the hub got."""

    enqueue_s: float
    connect_s: float
    drain_s: float
    last_s: float | None
    """From ``start()`` to the subscriber's last message; None if nothing arrived."""
    delivered: Delivered
    sender_stats: dict[str, int]


def fill_and_drain(
    port: int,
    events: Sequence[Message],
    hub: Callable[[int, int], AbstractContextManager[Collect]],
    synchronous: Mode,
    client_id: str,
) -> Drained:
    """Publish ``events`` on the benchmark door's event topic while the Link is stopped,
    then start it and time until the broker has them all and the hub received them."""
    topics = Topics(SITE)
    topic = topics.door_event(DOOR)
    count = len(events)
    with (
        tempfile.TemporaryDirectory(prefix="hubtap-outbox-") as workdir,
        hub(port, count) as collect,
        Outbox(Path(workdir) / "outbox.sqlite3", synchronous=synchronous) as outbox,
    ):
        sender = Link(mqtt_config(port), topics, client_id=client_id, outbox=outbox)
        try:
            started = time.perf_counter()
            for event in events:
                sender.publish(topic, event)
            enqueue_s = time.perf_counter() - started
            if len(outbox) != count:
                raise BenchmarkError(f"the outbox holds {len(outbox)} messages, not {count}")

            started = time.perf_counter()
            sender.start()
            if not sender.wait_connected(CONNECT_TIMEOUT_S):
                raise BenchmarkError(f"{sender.client_id} did not connect")
            connect_s = time.perf_counter() - started
            wait_until(lambda: len(outbox) == 0, DRAIN_TIMEOUT_S, "the drain", POLL_S)
            drain_s = time.perf_counter() - started
            delivered = collect(DELIVERY_TIMEOUT_S + count / 1000)
        finally:
            sender.stop()
    last_s = delivered.last_at - started if delivered.received else None
    stats = {key: getattr(sender.stats, key) for key in SENDER_STATS}
    return Drained(enqueue_s, connect_s, drain_s, last_s, delivered, stats)


def _fill_and_drain(port: int, count: int, mode: Mode, placement: str) -> Result:
    """One measurement: enqueue while stopped, then time the drain and check delivery."""
    events = [AlarmEvent(alarm="tamper", active=True, detail=f"bench {i}") for i in range(count)]
    hub = hub_in_child if placement == "separate_process" else _hub
    try:
        run = fill_and_drain(port, events, hub, mode, f"bench-door-{mode}")
    except BenchmarkError as err:
        return {"error": str(err), "meets_target": False}
    drain_rate = rate(count, run.drain_s)
    last_s = run.last_s
    result: Result = {
        "enqueue_s": round(run.enqueue_s, 3),
        "enqueue_rate": rate(count, run.enqueue_s),
        "connect_s": round(run.connect_s, 3),
        "drain_s": round(run.drain_s, 3),
        "drain_rate": drain_rate,
        "received": run.delivered.received,
        "received_all": run.delivered.ids == {event.id for event in events},
        "last_received_s": None if last_s is None else round(last_s, 3),
        "delivered_rate": None if last_s is None else rate(run.delivered.received, last_s),
        "sender_stats": run.sender_stats,
    }
    result["meets_target"] = (drain_rate or 0) >= DRAIN_RATE_MIN and result["received_all"]
    return result


@contextmanager
def _hub(port: int, count: int) -> Iterator[Collect]:
    """A hub-side Link on every door's events, with dedupe, proven subscribed."""
    topics = Topics(SITE)
    received, probes, ids = Counter(), Counter(), set[str]()

    def on_event(delivery: Delivery[Any]) -> None:
        if delivery.ids["door_id"] == DOOR:
            ids.add(delivery.message.id)
            received.increment()
        else:
            probes.increment()

    def send_probe() -> None:  # a fresh id each time, or dedupe would drop it
        probe_event = AlarmEvent(alarm="probe", active=True)
        probe.publish(topics.door_event(PROBE_DOOR), DOOR_EVENT.encode(probe_event), qos=1)

    def collect(timeout: float) -> Delivered:
        received.wait_for(count, timeout)
        return Delivered(received.value, frozenset(ids), received.last_at)

    link = Link(mqtt_config(port), topics, client_id="bench-hub", dedupe_window=count + 100)
    link.subscribe(topics.door_event(ANY), on_event, dedupe=True)
    with link, paho_client(port, "bench-probe") as probe:
        if not link.wait_connected(CONNECT_TIMEOUT_S):
            raise BenchmarkError("the subscriber Link did not connect")
        prime(send_probe, probes)
        yield collect


@contextmanager
def hub_in_child(port: int, count: int) -> Iterator[Collect]:
    """:func:`_hub` in a child process, driven over a pipe."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_hub_child, args=(port, count, theirs), daemon=True)
    child.start()

    def collect(timeout: float) -> Delivered:
        ours.send(timeout)
        return _receive(ours, child, timeout + CONNECT_TIMEOUT_S, Delivered)

    try:
        _receive(ours, child, CHILD_START_TIMEOUT_S, str)
        yield collect
    finally:
        child.join(CONNECT_TIMEOUT_S)
        if child.is_alive():
            child.terminate()
            child.join(CONNECT_TIMEOUT_S)


def _hub_child(port: int, count: int, conn: Connection) -> None:
    """The child process: subscribe, say ``ready``, report when asked (or on a time-out)."""
    try:
        with _hub(port, count) as collect:
            conn.send("ready")
            if conn.poll(CHILD_IDLE_TIMEOUT_S):
                conn.send(collect(conn.recv()))
    except BenchmarkError as err:
        conn.send(err)


def _receive(conn: Connection, child: BaseProcess, timeout: float, kind: type[T]) -> T:
    """The child's next reply, which must be a ``kind``; a BenchmarkError it sent is raised."""
    if not wait([conn, child.sentinel], timeout):
        raise BenchmarkError(f"the subscriber process did not answer within {timeout:g} s")
    if not conn.poll():
        child.join(CONNECT_TIMEOUT_S)  # it has exited: this only collects the code
        raise BenchmarkError(f"the subscriber process exited with code {child.exitcode}")
    reply = conn.recv()
    if isinstance(reply, BenchmarkError):
        raise reply
    if not isinstance(reply, kind):
        raise BenchmarkError(f"the subscriber process sent {reply!r}")
    return reply


if __name__ == "__main__":
    raise SystemExit(main_alone(run, __doc__, DEFAULT_COUNT))
