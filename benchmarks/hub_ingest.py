"""Sustained ingest of door events from MQTT into the hub's store, 1,000,000 events already in it.

The hub is the real ``HubServer`` (ingest, presence, list and occupancy
publishers, housekeeping) with ``hub_link(config)``, run in this process as
``hubtap server`` runs it (``run_server`` is ``Store.in_folder`` plus these
two), so that its ``Ingest`` can be timed batch by batch; this process does
nothing else while it runs but poll a counter every 5 ms. Its store is a
copy of the cached file of ``benchmarks.hub_common``: 10,000 members, 10
doors (entrances, exits, zone readers), 1,000,000 access events over 180 days
and the 551,000 or so presence sessions built from them (WAL, ``synchronous
= NORMAL``, as ``Store.open`` sets).

The doors are 10 bare paho clients (QoS 1, one per door, their network loops
under ``loop_start()``) in a separate process, so that they do not share the
hub's interpreter lock; that process runs at ``nice 19``, so that on the 2
cores it takes only what the hub and Mosquitto leave (real doors bring their
own CPUs). They publish ``count`` ``AccessEvent``s as doors
send them (credential hash, reason, member, role, ``card_hint``, timing) on
``door/<door_id>/event``: visits of members in time order (an entrance, a
few zone readers, usually an exit), all granted, with denied taps mixed in
(about 8 %: outside the schedule, expired, suspended, unknown cards). Every
100th message is a repeat of an earlier event of the same door, as a door
resends after a reconnect: alternately one sent 50 messages before (the
hub link's dedupe window of 10,000 ids drops it) and one sent at least 20,000
before (beyond that window: the store must ignore it). The publishers send
as fast as paho takes the messages (at most 100 in flight per client), so
Mosquitto queues what the hub has not taken yet (``max_queued_messages``
is raised, as for the other benchmarks; ``count`` must stay under it).

The time runs from the first publish to the commit of the batch that holds
the last new event (``Ingest.process`` is wrapped to note when each batch
returns, its size and its duration). Rate = ``count`` / that time. Loss =
new events sent − rows added to ``access_events``, which must be 0; every
sent id is looked up in the store afterwards, and the repeats must show up
as duplicates (the link's and the ingest's counters) and never as rows.
Target: at least **5,000 events/s** with no loss, on the 2 cores this
process, Mosquitto and the doors' process share.
"""

import bisect
import os
import random
import resource
import sqlite3
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from benchmarks.common import (
    BenchmarkError,
    Counter,
    Result,
    main_alone,
    paho_client,
    percentile,
    rate,
)
from benchmarks.hub_common import (
    ENTRANCES,
    EVENT_DOORS,
    EXITS,
    MEMBERS,
    ZONE_READERS,
    DoorSpec,
    card_uid,
    child_process,
    copy_events_store,
    credential,
    hub_config,
    member_id,
    usable,
)
from hub_server.errors import HubError
from hub_server.ingest import BatchResult, Inbound, Ingest
from hub_server.server import HubServer, hub_link
from hub_server.store import Store
from hublink.credentials import card_hint, credential_hash
from hublink.errors import HublinkError
from hublink.messages import DOOR_EVENT, AccessEvent, TapTiming
from hublink.topics import Topics
from tests.helpers.door_hardware import SITE_KEY

DEFAULT_COUNT = 100_000
RATE_MIN = 5000.0
SITE_ID = "bench-ingest"
SEED = 41
REPEAT_EVERY = 100
NEAR_BACK = 50
FAR_BACK = 20_000
"""Messages back: inside and well beyond the hub link's dedupe window (10,000 ids)."""
TAP_SPACING_S = 0.0002
"""The events' timestamps advance 0.2 ms per event: 5,000 taps a second, site-wide."""
DENIED_PER_VISIT = 0.28
"""A visit is 3.2 granted taps on average: this makes about 8 % of taps denied."""
DENIALS = (("outside_schedule", True), ("expired", True), ("credential_suspended", True),
           ("unknown_credential", False))  # fmt: skip
INFLIGHT = 100
NICE = 19
"""The doors' process yields the 2 cores to the hub and Mosquitto (doors have their own CPUs)."""
CONNECT_TIMEOUT_S = 30.0
CHILD_START_TIMEOUT_S = 180.0
"""Building and encoding the events takes the doors' process a few seconds."""
SETTLE_S = 1.0
STALL_S = 30.0
"""The run fails if no batch is written for this long before the last event."""
POLL_S = 0.005
ACK_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Plan:
    """What the doors' process is about to send."""

    unique_ids: list[str]
    near_repeats: int
    far_repeats: int
    payload_bytes_mean: float
    per_door: dict[str, int]
    granted: int
    denied: int


@dataclass(frozen=True)
class Sent:
    """What the doors' process did, on the system-wide ``perf_counter`` clock."""

    first_at: float
    published_at: float
    acked_at: float
    messages: int
    cpu_s: float


def run(port: int, count: int = DEFAULT_COUNT) -> Result:
    """Send ``count`` new events (plus 1 % repeats) from 10 doors; time them into the store."""
    result: Result = {
        "benchmark": "hub_ingest",
        "count": count,
        "hub": "HubServer in this process (hub_link, Store.open on a file)",
        "doors": f"{len(EVENT_DOORS)} paho clients, QoS 1, in a separate process",
        "repeats": f"1 in {REPEAT_EVERY}: {NEAR_BACK} and {FAR_BACK:,} messages back, alternately",
        "rate_min": RATE_MIN,
    }
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="hubtap-hub-ingest-") as workdir:
            folder = Path(workdir)
            path, store_figures = copy_events_store(folder)
            result["store"] = store_figures
            result.update(_measure(port, folder, path, count))
    except (BenchmarkError, HubError, HublinkError, OSError) as err:
        result.update(error=f"{type(err).__name__}: {err}", meets_target=False)
        return result
    result["meets_target"] = (result["rate"] or 0) >= RATE_MIN and result["loss"] == 0
    result["duration_s"] = round(time.perf_counter() - started, 1)
    return result


class BatchRecorder:
    """Wraps ``Ingest.process``: when each batch returned (committed), its size and duration."""

    def __init__(self, ingest: Ingest) -> None:
        self._process = ingest.process
        ingest.process = self._timed  # type: ignore[method-assign]
        self.batches: list[tuple[float, float, int]] = []  # returned at, seconds, messages
        self.written = 0
        self._lock = threading.Lock()

    def _timed(self, items: list[Inbound]) -> BatchResult:
        start = time.perf_counter()
        result = self._process(items)
        end = time.perf_counter()
        with self._lock:
            self.batches.append((end, end - start, len(items)))
            self.written += result.stored + result.duplicates
        return result

    def done_at(self, written: int) -> float | None:
        """When the batch that brought the count of written messages to ``written`` returned."""
        total = 0
        with self._lock:
            batches = list(self.batches)
        for end, _, items in batches:
            total += items
            if total >= written:
                return end
        return None


def _measure(port: int, workdir: Path, path: Path, count: int) -> Result:
    config = hub_config(workdir, port, SITE_ID, "bench-hub-ingest")
    with ExitStack() as stack:
        doors = stack.enter_context(child_process("the doors' process", _doors_child, port, count))
        plan = doors.receive(CHILD_START_TIMEOUT_S, Plan)
        store = stack.enter_context(Store.open(path))
        before = _rows(store)
        server = HubServer(config, store, hub_link(config))
        recorder = BatchRecorder(server.ingest)
        server.start()
        stack.callback(server.stop)
        if not server.link.wait_connected(CONNECT_TIMEOUT_S):
            raise BenchmarkError("the hub's link did not connect")
        time.sleep(SETTLE_S)  # the first list and occupancy passes are done
        expected = len(plan.unique_ids) + plan.far_repeats  # what reaches the ingest
        cpu_before, threads_before = _cpu(), thread_cpu()
        doors.send("go")
        end_at, received_at = _wait_written(recorder, server.ingest, expected)
        cpu_s, threads_after = _cpu() - cpu_before, thread_cpu()
        sent = doors.receive(ACK_TIMEOUT_S, Sent)
        server.ingest.wait_idle(10)
        ingest, link = server.ingest.stats, server.link.stats
        stored = _rows(store) - before
    missing = _missing(path, plan.unique_ids)
    duration = end_at - sent.first_at
    batch_s = sorted(seconds for _, seconds, _ in recorder.batches)
    sizes = [items for _, _, items in recorder.batches]
    return {
        "events_before": before,
        "sent": {
            "messages": sent.messages,
            "new_events": len(plan.unique_ids),
            "repeats_in_window": plan.near_repeats,
            "repeats_beyond_window": plan.far_repeats,
            "granted": plan.granted,
            "denied": plan.denied,
            "per_door": plan.per_door,
            "payload_bytes_mean": plan.payload_bytes_mean,
            "publish_s": round(sent.published_at - sent.first_at, 3),
            "acked_s": round(sent.acked_at - sent.first_at, 3),
            "doors_cpu_s": round(sent.cpu_s, 2),
        },
        "hub_received_all_s": round(received_at - sent.first_at, 3),
        "duration_s_first_publish_to_last_commit": round(duration, 3),
        "rate": rate(len(plan.unique_ids), duration),
        "stored": stored,
        "loss": len(plan.unique_ids) - stored,
        "missing_ids": missing,
        "duplicates": {
            "dropped_by_link_dedupe": link.duplicates,
            "ignored_by_store": ingest.duplicates,
            "stored_twice": stored - (len(plan.unique_ids) - missing),
        },
        "ingest": {
            "received": ingest.received,
            "stored": ingest.stored,
            "batches": ingest.batches,
            "failed_batches": ingest.failed_batches,
            "dropped": ingest.dropped,
            "batch_size_mean": round(sum(sizes) / len(sizes), 1) if sizes else None,
            "batch_size_max": max(sizes, default=0),
            "batch_ms_p50": round(percentile(batch_s, 0.5) * 1e3, 1) if batch_s else None,
            "batch_ms_p99": round(percentile(batch_s, 0.99) * 1e3, 1) if batch_s else None,
            "batch_ms_max": round(batch_s[-1] * 1e3, 1) if batch_s else None,
            "write_s_total": round(sum(batch_s), 2),
        },
        "link": {"received": link.received, "rejected": link.rejected},
        "hub_process_cpu_s": round(cpu_s, 2),
        "hub_threads_cpu_s": {
            name: round(seconds - threads_before.get(name, 0.0), 2)
            for name, seconds in sorted(threads_after.items())
            if seconds - threads_before.get(name, 0.0) >= 0.01
        },
    }


def _wait_written(recorder: BatchRecorder, ingest: Ingest, expected: int) -> tuple[float, float]:
    """Wait (bounded) until ``expected`` messages are written.

    Returns when the last batch returned and when (within 5 ms) the ingest
    had been handed the last message.
    """
    last_progress, seen = time.perf_counter(), -1
    received_at = 0.0
    while recorder.written < expected:  # ends: each turn needs progress within STALL_S
        now = time.perf_counter()
        if not received_at and ingest.stats.received >= expected:
            received_at = now
        if recorder.written != seen:
            seen, last_progress = recorder.written, now
        elif now - last_progress > STALL_S:
            raise BenchmarkError(
                f"ingest stalled at {seen:,} of {expected:,} messages for {STALL_S:g} s "
                f"(received {ingest.stats.received:,}, dropped {ingest.stats.dropped:,})"
            )
        time.sleep(POLL_S)
    end_at = recorder.done_at(expected)
    assert end_at is not None
    return end_at, received_at or end_at


def _rows(store: Store) -> int:
    row = store.query_one("SELECT count(*) FROM access_events")
    return int(row[0]) if row else 0


def _missing(path: Path, ids: list[str]) -> int:
    """How many of ``ids`` are not in ``access_events`` (own connection, read only)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        conn.execute("CREATE TEMP TABLE sent (id TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO temp.sent VALUES (?)", ((i,) for i in ids))
        (found,) = conn.execute(
            "SELECT count(*) FROM temp.sent s JOIN access_events e ON e.id = s.id"
        ).fetchone()
    conn.close()
    return len(ids) - int(found)


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each live thread of this process, by thread name."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name
        name = "paho network loop" if thread.name.startswith("paho-mqtt-client") else thread.name
        seconds[name] = seconds.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return seconds


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the doors' process ------------------------------------------------------


def _doors_child(conn: Connection, port: int, count: int) -> None:
    """Build the events, connect a client per door, then send when told to."""
    os.nice(NICE)
    try:
        topics = Topics(SITE_ID)
        sequence, plan = build_sequence(count)
        acked = Counter()

        def on_publish(*_: Any) -> None:
            acked.increment()

        with ExitStack() as stack:
            clients: dict[str, mqtt.Client] = {}
            for door in EVENT_DOORS:
                client = stack.enter_context(paho_client(port, f"bench-door-{door.id}", INFLIGHT))
                client.on_publish = on_publish
                clients[door.id] = client
            conn.send(plan)
            if not conn.poll(CHILD_START_TIMEOUT_S) or conn.recv() != "go":
                return
            topic = {door.id: topics.door_event(door.id) for door in EVENT_DOORS}
            cpu = _cpu()
            first_at = time.perf_counter()
            for door_id, payload in sequence:
                clients[door_id].publish(topic[door_id], payload, qos=1)
            published_at = time.perf_counter()
            if not acked.wait_for(len(sequence), ACK_TIMEOUT_S):
                raise BenchmarkError(f"the broker acknowledged {acked.value} of {len(sequence)}")
            conn.send(Sent(first_at, published_at, acked.last_at, len(sequence), _cpu() - cpu))
            conn.poll(ACK_TIMEOUT_S)  # "stop": the parent has what it needs
    except BenchmarkError as err:
        conn.send(err)


@dataclass(frozen=True)
class _Tap:
    at: float
    door: DoorSpec
    member: int | None
    granted: bool
    reason: str


def build_sequence(count: int) -> tuple[list[tuple[str, bytes]], Plan]:
    """``count`` new events by door, encoded, in time order, with the repeats put in."""
    rng = random.Random(SEED)
    taps = _taps(count, rng)
    base = datetime.now(UTC)
    regular: list[tuple[str, str, bytes]] = []  # door, id, payload
    for i, tap in enumerate(taps):
        event = _event(tap, base + timedelta(seconds=i * TAP_SPACING_S), rng)
        regular.append((tap.door.id, event.id, DOOR_EVENT.encode(event)))
    sequence: list[tuple[str, bytes]] = []
    by_door: dict[str, list[int]] = {door.id: [] for door in EVENT_DOORS}
    near = far = 0
    for i, (door_id, _, payload) in enumerate(regular):
        sequence.append((door_id, payload))
        by_door[door_id].append(i)
        if (i + 1) % REPEAT_EVERY:
            continue
        earlier = by_door[door_id]
        back = FAR_BACK if (i // REPEAT_EVERY) % 2 and i >= FAR_BACK + REPEAT_EVERY else NEAR_BACK
        at = bisect.bisect_right(earlier, i - back) - 1
        if at < 0:
            continue
        sequence.append((door_id, regular[earlier[at]][2]))
        if back == FAR_BACK:
            far += 1
        else:
            near += 1
    sizes = [len(payload) for _, _, payload in regular]
    plan = Plan(
        unique_ids=[event_id for _, event_id, _ in regular],
        near_repeats=near,
        far_repeats=far,
        payload_bytes_mean=round(sum(sizes) / len(sizes), 1),
        per_door={door.id: len(by_door[door.id]) for door in EVENT_DOORS},
        granted=sum(tap.granted for tap in taps),
        denied=sum(not tap.granted for tap in taps),
    )
    return sequence, plan


def _taps(count: int, rng: random.Random) -> list[_Tap]:
    """Visits spread over the time ``count`` taps take at 5,000/s, and some denied taps."""
    regulars = [i for i in range(MEMBERS) if usable(i)]
    span = count * TAP_SPACING_S
    taps: list[_Tap] = []
    while len(taps) < count:
        member = rng.choice(regulars)
        at = rng.uniform(0, span)
        taps.append(_Tap(at, rng.choice(ENTRANCES), member, True, "member"))
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            at += rng.uniform(0.05, 2.0)
            taps.append(_Tap(at, rng.choice(ZONE_READERS), member, True, "member"))
        if rng.random() < 0.8:
            at += rng.uniform(0.05, 2.0)
            taps.append(_Tap(at, rng.choice(EXITS), member, True, "member"))
        if rng.random() < DENIED_PER_VISIT:
            reason, known = rng.choice(DENIALS)
            who = rng.randrange(MEMBERS) if known else None
            taps.append(_Tap(rng.uniform(0, span), rng.choice(EVENT_DOORS), who, False, reason))
    taps = taps[:count]
    taps.sort(key=lambda tap: tap.at)
    return taps


def _event(tap: _Tap, ts: datetime, rng: random.Random) -> AccessEvent:
    if tap.member is None:
        uid = b"\x08" + rng.getrandbits(48).to_bytes(6, "big")
        cred = credential_hash(SITE_KEY, uid)
    else:
        uid, cred = card_uid(tap.member), credential(tap.member)
    return AccessEvent(
        ts=ts,
        reader_id="main",
        credential=cred,
        granted=tap.granted,
        reason=tap.reason,
        member_id=None if tap.member is None else member_id(tap.member),
        role=None if tap.member is None else "member",
        card_hint=card_hint(uid),
        timing=TapTiming(
            read_ms=rng.uniform(0.13, 0.3),
            decide_ms=rng.uniform(0.02, 0.08),
            lock_ms=rng.uniform(0.002, 0.01) if tap.granted else None,
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main_alone(run, __doc__, DEFAULT_COUNT))
