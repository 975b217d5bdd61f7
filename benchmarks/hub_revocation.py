"""A card revoked at the hub → denied at 50 doors: how long until every door refuses it.

The hub is the real ``HubServer`` with ``hub_link(config)`` in this process,
its settings the defaults (``[lists] poll_interval_s = 0.05``,
``snapshot_interval_s = 1.0``; ``--poll-interval-s`` sets another poll
interval), on a store built by
``benchmarks.hub_common``: 10,000 members with 10,700 cards, 50 doors in
four groups (two with access rules), ``Store.open`` on a file.

The 50 doors run in a separate process, each as a door's list sync runs in
``DoorController``: a ``Replica`` of its own (SQLite, WAL) and a ``Link`` of
its own (paho client) subscribed to ``door/<door_id>/acl/snapshot`` (the
payload left undecoded) and ``door/<door_id>/acl/delta`` (with dedupe), a
thread applying what arrives in order: a snapshot skipped when
``peek_version`` finds the replica's version in it, else taken up with
``apply_payload``; a delta with ``Replica.apply_delta``, a resubscription
to the snapshot when it does not follow. (A real door takes up a snapshot
over 1 MiB, as these 1.2 MB lists are, in a child process; that happens
only at the start here, before anything is measured, so the doors apply
their first snapshot in the thread.) After each update the door decides the
watched card with ``door.decision.decide`` on ``replica.lookup`` at the
current time, as a tap would, and notes (``time.perf_counter``, a
system-wide clock) the first time it is refused.

Per revocation: the doors are told which card to watch (card 0 of a
``resident`` member, granted at every door at any time) and check that
every replica grants it; after a random wait of up to one poll interval (so
the revocations fall at every phase of the hub's poll), ``cards.revoke`` is
called on a second ``Store`` opened on the same file: another connection,
as a ``hubtap cards revoke`` beside the server makes it, which the server
sees only by polling the store's change counter (nothing in the server
process wakes its list publisher for it). The latency runs from
``cards.revoke`` returning (the write committed) to each door refusing the
card. Before the next revocation the hub's debounced snapshots (50 of them,
``snapshot_interval_s`` after the deltas) must have gone out and every door
must be idle, so each revocation is measured alone.

Reported: p50/p99/max over all door × revocation pairs, the same per
revocation for the first and the last door, and, from wrappers around the
list publisher's ``check`` and its link, when the first delta of each
revocation was published, split into the wait for the publisher's next
pass (its poll) and the pass itself (of which ``access_lists.compute``).
Target: p99 at most **250 ms**.
"""

import queue
import random
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from benchmarks.common import (
    BROKER_SETTINGS,
    CONNECT_TIMEOUT_S,
    BenchmarkError,
    Result,
    broker_settings,
    count_parser,
    emit,
    has_error,
    mosquitto,
    mqtt_config,
    parse_counted,
    wait_until,
)
from benchmarks.door_common import ms_summary
from benchmarks.hub_common import (
    ACTOR,
    MEMBERS,
    Child,
    DoorSpec,
    child_process,
    credential,
    hub_config,
    many_doors,
    member_kind,
    populate,
)
from door.controller import peek_version
from door.decision import Situation, decide
from door.errors import DoorError
from door.list_apply import apply_payload
from door.replica import DeltaOutcome, Replica
from hub_server import cards
from hub_server.config import ListsSection
from hub_server.errors import HubError
from hub_server.list_publisher import ListPublisher, Publisher
from hub_server.server import HubServer, hub_link
from hub_server.store import Store
from hublink.errors import HublinkError
from hublink.link import Delivery, Link, Payload
from hublink.messages import AclDelta, Message, utcnow
from hublink.topics import Topics

DEFAULT_COUNT = 40
TARGET_P99_MS = 250.0
DOORS = 50
SITE_ID = "bench-revocation"
SEED = 7
SETUP_TIMEOUT_S = 180.0
"""The doors connect and take up their first lists (50 × 10,400 cards) within this."""
ARM_TIMEOUT_S = 60.0
DENIED_TIMEOUT_S = 10.0
"""Every door must refuse the card within this after the revocation."""
SNAPSHOTS_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Ready:
    """The doors' process has every door connected and holding its first list."""

    setup_s: float
    entries: list[int]
    versions: list[int]


@dataclass(frozen=True)
class Denied:
    """When each door first refused the watched card (``perf_counter``), and why."""

    at: dict[str, float]
    reasons: dict[str, str]


@dataclass(frozen=True)
class Sample:
    """One revocation: seconds from ``cards.revoke`` returning."""

    doors: list[float]
    """Until each door refused the card."""
    first_delta: float
    """Until the hub published the first delta."""
    pass_started: float
    """Until the list publisher's pass that published it started (its poll)."""
    compute: float
    """How long that pass's ``access_lists.compute`` took."""
    reasons: list[str]


@dataclass(frozen=True)
class DoorStats:
    """What the doors' process applied over the run."""

    snapshots_applied: int
    snapshots_skipped: int
    deltas_applied: int
    deltas_already_had: int
    resyncs: int
    errors: int


def run(port: int, count: int = DEFAULT_COUNT, poll_interval_s: float | None = None) -> Result:
    """Revoke ``count`` cards one at a time; time until each of 50 doors refuses each."""
    lists = (
        ListsSection() if poll_interval_s is None else ListsSection(poll_interval_s=poll_interval_s)
    )
    result: Result = {
        "benchmark": "hub_revocation",
        "count": count,
        "members": MEMBERS,
        "doors": DOORS,
        "hub": "HubServer in this process",
        "lists": lists.model_dump(),
        "revoked_by": "cards.revoke on a second Store (another connection, as a hubtap command)",
        "doors_process": f"{DOORS} Replica + Link pairs in one separate process",
        "target_p99_ms": TARGET_P99_MS,
    }
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="hubtap-hub-revocation-") as workdir:
            result.update(_measure(port, Path(workdir), count, lists))
    except (BenchmarkError, HubError, HublinkError, DoorError, OSError) as err:
        result.update(error=f"{type(err).__name__}: {err}", meets_target=False)
        return result
    result["meets_target"] = result["latency"]["p99_ms"] <= TARGET_P99_MS
    result["duration_s"] = round(time.perf_counter() - started, 1)
    return result


class DeltaClock:
    """Stands between the list publisher and the link: notes when each delta went out.

    It also wraps the publisher's ``check`` to note when each pass started,
    so a revocation's wait for the next poll and the pass's own work can be
    told apart.
    """

    def __init__(self, publisher: ListPublisher) -> None:
        self.link: Publisher = publisher.link
        self.deltas: list[float] = []
        self.checks: list[float] = []
        self.computes: dict[float, float] = {}  # pass start -> its compute's seconds
        self._publisher = publisher
        self._check = publisher.check
        publisher.link = self
        publisher.check = self._timed_check  # type: ignore[method-assign]

    def _timed_check(self) -> bool:
        started = time.perf_counter()
        self.checks.append(started)
        passes = self._publisher.stats.passes
        changed = self._check()
        if self._publisher.stats.passes != passes:
            self.computes[started] = self._publisher.stats.last_compute_ms / 1000
        return changed

    def pass_started(self, before: float) -> float:
        """When the last pass that started before ``before`` started."""
        return max(at for at in self.checks if at <= before)

    def publish(self, topic: str, message: Message) -> bool:
        """Publish through the link; note the time of a delta."""
        sent = self.link.publish(topic, message)
        if isinstance(message, AclDelta):
            self.deltas.append(time.perf_counter())
        return sent


def _measure(port: int, workdir: Path, count: int, lists: ListsSection) -> Result:
    path = workdir / "hub.sqlite3"
    doors = many_doors(DOORS)
    with Store.open(path) as store:
        populate(store, MEMBERS, doors)
        chosen = _cards(store, count)
        config = hub_config(
            workdir, port, SITE_ID, "bench-hub-revocation", lists=lists.model_dump()
        )
        with (
            child_process("the doors' process", _doors_child, port, doors) as child,
            Store.open(path) as admin,
        ):
            server = HubServer(config, store, hub_link(config))
            clock = DeltaClock(server.lists)
            server.start()
            try:
                ready = child.receive(SETUP_TIMEOUT_S, Ready)
                samples = _revoke_all(server, admin, child, chosen, clock)
                child.send("stats")
                stats = child.receive(CONNECT_TIMEOUT_S, DoorStats)
            finally:
                server.stop()
    every = [s for per in samples for s in per.doors]
    return {
        "setup": {
            "doors_ready_s": round(ready.setup_s, 1),
            "entries_per_door": sorted(set(ready.entries)),
        },
        "latency": ms_summary(every),
        "first_door": ms_summary([min(per.doors) for per in samples]),
        "last_door": ms_summary([max(per.doors) for per in samples]),
        "revoke_to_first_delta": ms_summary([per.first_delta for per in samples]),
        "of_which_poll_wait": ms_summary([per.pass_started for per in samples]),
        "of_which_pass": ms_summary([per.first_delta - per.pass_started for per in samples]),
        "of_the_pass_compute": ms_summary([per.compute for per in samples]),
        "first_delta_to_last_door": ms_summary(
            [max(per.doors) - per.first_delta for per in samples]
        ),
        "denied_reasons": sorted({r for per in samples for r in per.reasons}),
        "hub_compute_ms_last": round(server.lists.stats.last_compute_ms, 1),
        "hub_publisher": {
            "passes": server.lists.stats.passes,
            "deltas": server.lists.stats.deltas,
            "snapshots": server.lists.stats.snapshots,
        },
        "doors_applied": asdict(stats),
    }


def _wait_snapshots(server: HubServer, wanted: int) -> None:
    """Wait until the hub has published ``wanted`` snapshots in all."""
    wait_until(
        lambda: server.lists.stats.snapshots >= wanted,
        SNAPSHOTS_TIMEOUT_S,
        f"the hub's {wanted} snapshots",
        0.01,
    )


def _cards(store: Store, count: int) -> list[tuple[int, str]]:
    """Card 0 (id and hash) of ``count`` residents without an end date: granted everywhere."""
    chosen: list[tuple[int, str]] = []
    rng = random.Random(SEED)
    candidates = [
        i
        for i in range(MEMBERS)
        if member_kind(i) == ("resident", "member", "active") and i % 5 != 2
    ]
    for i in rng.sample(candidates, count):
        hashed = credential(i)
        row = store.query_one(
            "SELECT id FROM credentials WHERE hash = ? AND status = 'active'", (hashed,)
        )
        if row is None:
            raise BenchmarkError(f"no active card 0 for member {i}")
        chosen.append((int(row[0]), hashed))
    return chosen


def _revoke_all(
    server: HubServer,
    admin: Store,
    child: Child,
    chosen: list[tuple[int, str]],
    clock: DeltaClock,
) -> list[Sample]:
    rng = random.Random(SEED + 1)
    samples: list[Sample] = []
    for n, (card_id, hashed) in enumerate(chosen):
        _wait_snapshots(server, DOORS * (n + 1))  # the first lists, then after each change
        child.send(("arm", hashed))
        child.receive(ARM_TIMEOUT_S, str)
        time.sleep(rng.uniform(0, server.config.lists.poll_interval_s))
        deltas_before = len(clock.deltas)
        cards.revoke(admin, card_id, ACTOR)
        revoked_at = time.perf_counter()
        child.send("collect")
        denied = child.receive(DENIED_TIMEOUT_S + CONNECT_TIMEOUT_S, Denied)
        if len(clock.deltas) <= deltas_before:
            raise BenchmarkError(f"revocation {n}: the hub published no delta")
        started = clock.pass_started(clock.deltas[deltas_before])
        samples.append(
            Sample(
                [at - revoked_at for at in denied.at.values()],
                clock.deltas[deltas_before] - revoked_at,
                started - revoked_at,
                clock.computes.get(started, 0.0),
                sorted(set(denied.reasons.values())),
            )
        )
    return samples


# --- the doors' process ------------------------------------------------------


@dataclass
class SimDoor:
    """A door's list sync as ``DoorController`` runs it, without hardware."""

    spec: DoorSpec
    replica: Replica
    link: Link
    updates: "queue.Queue[bytes | AclDelta | None]" = field(default_factory=queue.Queue)
    watched: str | None = None
    denied_at: float | None = None
    reason: str = ""
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(DoorStats.__dataclass_fields__, 0)
    )

    def subscribe(self) -> None:
        """As ``DoorController.subscribe`` does for the list."""
        topics = self.link.topics
        self.link.subscribe_payload(topics.door_acl_snapshot(self.spec.id), self._on_snapshot)
        self.link.subscribe(topics.door_acl_delta(self.spec.id), self._on_delta, dedupe=True)

    def _on_snapshot(self, payload: Payload) -> None:
        self.updates.put(payload.data)

    def _on_delta(self, delivery: Delivery[AclDelta]) -> None:
        self.updates.put(delivery.message)

    def run(self) -> None:
        """The sync thread: apply updates in order; after each, decide the watched card."""
        while (update := self.updates.get()) is not None:
            try:
                self._apply(update)
                self._check()
            except (DoorError, HublinkError):
                self.counts["errors"] += 1
            finally:
                self.updates.task_done()
        self.updates.task_done()

    def _apply(self, update: bytes | AclDelta) -> None:
        if isinstance(update, AclDelta):
            outcome = self.replica.apply_delta(update)
            if outcome is DeltaOutcome.OUT_OF_SYNC:
                self.counts["resyncs"] += 1
                self.link.resubscribe(self.link.topics.door_acl_snapshot(self.spec.id))
            elif outcome is DeltaOutcome.APPLIED:
                self.counts["deltas_applied"] += 1
            else:
                self.counts["deltas_already_had"] += 1
        elif peek_version(update) == self.replica.version > 0:
            self.counts["snapshots_skipped"] += 1
        else:
            apply_payload(self.replica, update)
            self.counts["snapshots_applied"] += 1

    def decide(self, hashed: str) -> tuple[bool, str]:
        """A tap of the card with ``hashed`` now, as the door decides it."""
        now = utcnow()
        policy = self.replica.policy
        situation = Situation(tiers=policy.tiers, schedules=policy.schedules, last_sync=now)
        decision = decide(self.replica.lookup(hashed), now, situation)
        return decision.granted, decision.reason

    def _check(self) -> None:
        watched = self.watched
        if watched is None or self.denied_at is not None:
            return
        granted, reason = self.decide(watched)
        if not granted:
            self.denied_at, self.reason = time.perf_counter(), reason


def _doors_child(conn: Connection, port: int, specs: tuple[DoorSpec, ...]) -> None:
    """Run the doors; answer ``arm``, ``collect`` and ``stats``; end on ``stop``."""
    try:
        with tempfile.TemporaryDirectory(prefix="hubtap-bench-doors-") as workdir:
            _serve_doors(conn, port, specs, Path(workdir))
    except (BenchmarkError, DoorError, HublinkError) as err:
        conn.send(BenchmarkError(f"{type(err).__name__}: {err}"))


def _serve_doors(conn: Connection, port: int, specs: tuple[DoorSpec, ...], folder: Path) -> None:
    started = time.perf_counter()
    topics = Topics(SITE_ID)
    doors: list[SimDoor] = []
    threads: list[threading.Thread] = []
    try:
        for spec in specs:
            replica = Replica(folder / f"{spec.id}.sqlite3", spec.id)
            link = Link(mqtt_config(port), topics, client_id=f"bench-rev-{spec.id}")
            door = SimDoor(spec, replica, link)
            door.subscribe()
            doors.append(door)
            thread = threading.Thread(target=door.run, name=f"acl-{spec.id}", daemon=True)
            thread.start()
            threads.append(thread)
            link.start()
        _wait_all(lambda: all(d.link.connected for d in doors), CONNECT_TIMEOUT_S, "to connect")
        _wait_all(lambda: all(d.replica.version > 0 for d in doors), SETUP_TIMEOUT_S, "a list")
        conn.send(
            Ready(
                time.perf_counter() - started,
                [len(d.replica) for d in doors],
                [d.replica.version for d in doors],
            )
        )
        _answer(conn, doors)
    finally:
        for door in doors:
            door.updates.put(None)
        for thread in threads:
            thread.join(CONNECT_TIMEOUT_S)
        for door in doors:
            door.link.stop()
            door.replica.close()


def _answer(conn: Connection, doors: list[SimDoor]) -> None:
    """Serve the parent's requests until told to stop (or it goes quiet for too long)."""
    while conn.poll(SETUP_TIMEOUT_S):  # ends: "stop", or no request for that long
        request = conn.recv()
        if isinstance(request, tuple) and request[0] == "arm":
            _arm(doors, request[1])
            conn.send("armed")
        elif request == "collect":
            _wait_all(
                lambda: all(d.denied_at is not None for d in doors),
                DENIED_TIMEOUT_S,
                "to refuse the revoked card",
            )
            conn.send(
                Denied(
                    {d.spec.id: d.denied_at for d in doors if d.denied_at is not None},
                    {d.spec.id: d.reason for d in doors},
                )
            )
        elif request == "stats":
            totals = dict.fromkeys(DoorStats.__dataclass_fields__, 0)
            for door in doors:
                for key, value in door.counts.items():
                    totals[key] += value
            conn.send(DoorStats(**totals))
        else:
            return


def _arm(doors: list[SimDoor], hashed: str) -> None:
    """Wait until no door has anything to apply, then watch ``hashed`` (granted everywhere)."""
    _wait_all(lambda: all(d.updates.unfinished_tasks == 0 for d in doors), ARM_TIMEOUT_S, "idle")
    for door in doors:
        door.denied_at, door.reason = None, ""
        granted, reason = door.decide(hashed)
        if not granted:
            raise BenchmarkError(f"door {door.spec.id} refuses the card to revoke: {reason}")
        door.watched = hashed


def _wait_all(check: Callable[[], bool], timeout: float, what: str) -> None:
    wait_until(check, timeout, f"every door {what}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run against a Mosquitto of its own; print the JSON; 1 on error."""
    parser = count_parser(__doc__, DEFAULT_COUNT, "revocations")
    parser.add_argument(
        "--mosquitto-defaults",
        action="store_true",
        help=f"run the broker without {', '.join(BROKER_SETTINGS)!r}",
    )
    parser.add_argument(
        "--poll-interval-s",
        type=float,
        default=None,
        help="the hub's [lists] poll_interval_s (default: the configuration's default)",
    )
    args = parse_counted(parser, argv)
    settings = broker_settings(args)
    with mosquitto(settings) as port:
        result = {"broker_settings": list(settings), **run(port, args.count, args.poll_interval_s)}
    emit(result)
    return 1 if has_error(result) else 0


if __name__ == "__main__":
    raise SystemExit(main())
