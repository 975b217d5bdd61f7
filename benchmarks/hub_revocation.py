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

import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
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
    granted_everywhere,
    hub_config,
    many_doors,
    populate,
)
from benchmarks.sim_doors import (
    Denied,
    DoorStats,
    Ready,
    SimDoor,
    arm,
    door_totals,
    sim_doors,
    wait_denied,
    wait_ready,
)
from door.errors import DoorError
from hub_server import cards
from hub_server.config import ListsSection
from hub_server.errors import HubError
from hub_server.list_publisher import ListPublisher, Publisher
from hub_server.server import HubServer, hub_link
from hub_server.store import Store
from hublink.errors import HublinkError
from hublink.messages import AclDelta, Message
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
    candidates = [i for i in range(MEMBERS) if granted_everywhere(i)]
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


def _doors_child(conn: Connection, port: int, specs: tuple[DoorSpec, ...]) -> None:
    """Run the doors; answer ``arm``, ``collect`` and ``stats``; end on ``stop``."""
    try:
        with tempfile.TemporaryDirectory(prefix="hubtap-bench-doors-") as workdir:
            _serve_doors(conn, port, specs, Path(workdir))
    except (BenchmarkError, DoorError, HublinkError) as err:
        conn.send(BenchmarkError(f"{type(err).__name__}: {err}"))


def _serve_doors(conn: Connection, port: int, specs: tuple[DoorSpec, ...], folder: Path) -> None:
    started = time.perf_counter()
    with sim_doors(port, Topics(SITE_ID), specs, folder, "bench-rev") as doors:
        conn.send(wait_ready(doors, started, SETUP_TIMEOUT_S))
        _answer(conn, doors)


def _answer(conn: Connection, doors: list[SimDoor]) -> None:
    """Serve the parent's requests until told to stop (or it goes quiet for too long)."""
    while conn.poll(SETUP_TIMEOUT_S):  # ends: "stop", or no request for that long
        request = conn.recv()
        if isinstance(request, tuple) and request[0] == "arm":
            arm(doors, request[1], ARM_TIMEOUT_S)
            conn.send("armed")
        elif request == "collect":
            conn.send(wait_denied(doors, DENIED_TIMEOUT_S))
        elif request == "stats":
            conn.send(door_totals(doors))
        else:
            return


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
