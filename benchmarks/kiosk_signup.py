"""A sign-up at one kiosk → the new seat count on every kiosk.

The hub is the real ``HubServer`` with ``hub_link(config)`` in this process,
on a fresh ``Store.open`` file with the site of ``benchmarks.hub_common``
(2,000 members with cards, 10 doors), :data:`KIOSKS` registered kiosks and
one open event with a seat for everyone. Its ingest answers kiosk requests
after each batch and wakes the ``events/upcoming`` publisher on commit, as
the server wires it.

A separate process holds the kiosks: one ``Link`` per kiosk, each
subscribed to the retained ``events/upcoming`` (the kiosk's own topic
client id), and the first one also to its ``kiosk/<id>/response``. Each
sign-up is a different member's ``KioskRequest(action="signup")`` published
by the first kiosk through its durable outbox (``synchronous = "full"``,
the default), as the kiosk's sign-up flow sends it. The latency runs
from just before that ``publish`` to the moment the *last* kiosk received
an ``UpcomingEvents`` whose seat count includes the new seat; the answer on
the response topic is timed too. Sign-ups are spaced: the next one waits
for every kiosk, then 20–50 ms more, so each is measured alone. Clocks are
``time.perf_counter`` in the kiosks' process only. Target: p95 at most
**500 ms**, on the shared broker (Mosquitto's defaults).

The run is repeated on a Mosquitto of its own with ``set_tcp_nodelay true``:
with Nagle's algorithm on the broker's sockets, the hub's answer and the seat
count wait about 40 ms for the kiosk's delayed ACK after its request; without
it they do not (``with_tcp_nodelay``).
"""

import functools
import random
import tempfile
import threading
import time
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

from benchmarks.common import (
    BROKER_SETTINGS,
    CONNECT_TIMEOUT_S,
    BenchmarkError,
    Result,
    main_alone,
    mosquitto,
    mqtt_config,
)
from benchmarks.door_common import ms_summary
from benchmarks.hub_common import (
    EVENT_DOORS,
    child_process,
    credential,
    hub_config,
    member_id,
    populate,
    usable,
)
from hub_server import events, kiosks
from hub_server.errors import HubError
from hub_server.events import EventIn
from hub_server.models import KioskIn, build
from hub_server.server import HubServer, hub_link
from hub_server.store import Store, now_text
from hublink.errors import HublinkError
from hublink.link import Delivery, Link
from hublink.messages import KioskRequest, KioskResponse, UpcomingEvents, utcnow
from hublink.outbox import Outbox
from hublink.topics import Topics

DEFAULT_COUNT = 200
TARGET_P95_MS = 500.0
SITE_ID = "bench-signup"
MEMBERS = 2_000
KIOSKS = ("entrance", "lounge", "upstairs")
EVENT_ID = "e-bench"
SEED = 23
GAP_S = (0.02, 0.05)
SIGNUP_TIMEOUT_S = 5.0
"""A sign-up whose seat has not shown on every kiosk within this fails the run."""
CHILD_START_TIMEOUT_S = 60.0
NODELAY = "set_tcp_nodelay true"


def run(port: int, count: int = DEFAULT_COUNT) -> Result:
    """``count`` sign-ups by different members at one kiosk; time until every kiosk shows it."""
    result: Result = {
        "benchmark": "kiosk_signup",
        "count": count,
        "hub": f"HubServer in this process (hub_link, Store.open on a file, {MEMBERS} members)",
        "kiosks": f"{len(KIOSKS)} Links subscribed to events/upcoming, in one other process",
        "gap_s": list(GAP_S),
        "target_p95_ms": TARGET_P95_MS,
    }
    started = time.perf_counter()
    try:
        result.update(_measure_on(port, count))
        with mosquitto((*BROKER_SETTINGS, NODELAY)) as nodelay_port:
            result["with_tcp_nodelay"] = _measure_on(nodelay_port, count)
    except (BenchmarkError, HubError, HublinkError, OSError) as err:
        result.update(error=f"{type(err).__name__}: {err}", meets_target=False)
        return result
    result["meets_target"] = result["signup_to_every_kiosk"]["p95_ms"] <= TARGET_P95_MS
    result["duration_s"] = round(time.perf_counter() - started, 1)
    return result


def signers(store: Store, count: int, now: datetime) -> list[int]:
    """``count`` different members who may sign up (active, with a card, their membership
    not ended), in a seeded order."""
    ended = {
        row["id"]
        for row in store.query(
            "SELECT id FROM members WHERE valid_until IS NOT NULL AND valid_until <= ?",
            (now_text(now),),
        )
    }
    able = [i for i in range(MEMBERS) if usable(i) and member_id(i) not in ended]
    if count > len(able):
        raise BenchmarkError(f"at most {len(able)} sign-ups (one per member)")
    return random.Random(SEED).sample(able, count)


def _measure_on(port: int, count: int) -> Result:
    with tempfile.TemporaryDirectory(prefix="hubtap-kiosk-signup-") as workdir:
        return _measure(port, Path(workdir), count)


def _measure(port: int, workdir: Path, count: int) -> Result:
    config = hub_config(workdir, port, SITE_ID, "bench-hub-signup")
    with Store.open(workdir / "hub.sqlite3") as store:
        populate(store, MEMBERS, EVENT_DOORS)
        for kiosk_id in KIOSKS:
            kiosks.add(store, build(KioskIn, id=kiosk_id, name=kiosk_id.title()), "bench")
        now = utcnow()
        event = build(
            EventIn,
            id=EVENT_ID,
            title="Benchmark workshop",
            host_member_id="m-00000",
            zone_id="ground",
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=1, hours=2),
            capacity=count,
        )
        events.add(store, event, actor="bench", now=now)
        server = HubServer(config, store, hub_link(config))
        server.start()
        try:
            if not server.link.wait_connected(CONNECT_TIMEOUT_S):
                raise BenchmarkError("the hub's link did not connect")
            with child_process(
                "the kiosks' process", _kiosks_child, port, signers(store, count, now)
            ) as child:
                timings = child.receive(CHILD_START_TIMEOUT_S + count * SIGNUP_TIMEOUT_S, dict)
        finally:
            server.stop()
        taken = events.get(store, EVENT_ID).taken
    if taken != count:
        raise BenchmarkError(f"{taken} seats taken after {count} sign-ups")
    return {
        "signup_to_every_kiosk": ms_summary(timings["every_kiosk"]),
        "signup_to_first_kiosk": ms_summary(timings["first_kiosk"]),
        "signup_to_answer": ms_summary(timings["answer"]),
        "seats_taken_after": taken,
    }


# --- the kiosks' process -----------------------------------------------------


def _kiosks_child(conn: Connection, port: int, members: list[int]) -> None:
    """Sign each member up at the first kiosk; report the times."""
    try:
        with (
            tempfile.TemporaryDirectory(prefix="hubtap-bench-kiosk-") as workdir,
            Outbox(Path(workdir) / "outbox.sqlite3", "full") as outbox,
        ):
            conn.send(_sign_up_all(port, members, outbox))
    except (BenchmarkError, HublinkError) as err:
        conn.send(BenchmarkError(f"{type(err).__name__}: {err}"))


class Seen:
    """When each kiosk first saw each seat count, and when each answer came."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[int, float]] = {kiosk: {} for kiosk in KIOSKS}
        self.answers: dict[str, float] = {}
        self.refusals: dict[str, str] = {}
        self.changed = threading.Condition()

    def on_upcoming(self, kiosk: str, delivery: Delivery[UpcomingEvents]) -> None:
        """Note the event's seat count as ``kiosk`` received it."""
        now = time.perf_counter()
        taken = next((e.taken for e in delivery.message.events if e.event_id == EVENT_ID), None)
        if taken is None:
            return
        with self.changed:
            self.counts[kiosk].setdefault(taken, now)
            self.changed.notify_all()

    def on_response(self, delivery: Delivery[KioskResponse]) -> None:
        """Note when the answer to a request came, and that it was a sign-up."""
        now = time.perf_counter()
        with self.changed:
            answer = delivery.message
            self.answers[answer.request_id] = now
            if answer.reason != "signed_up":
                self.refusals[answer.request_id] = answer.reason
            self.changed.notify_all()

    def shown(self, taken: int, request_id: str) -> bool:
        """Whether every kiosk has seen ``taken`` and the request's answer came."""
        return request_id in self.refusals or (
            self.everywhere(taken) and request_id in self.answers
        )

    def highest(self) -> dict[str, int]:
        """The highest seat count each kiosk has seen."""
        return {kiosk: max(counts, default=-1) for kiosk, counts in self.counts.items()}

    def everywhere(self, taken: int) -> bool:
        """Whether every kiosk has seen ``taken``."""
        return all(taken in counts for counts in self.counts.values())


def _sign_up_all(port: int, members: list[int], outbox: Outbox) -> dict[str, list[float]]:
    topics = Topics(SITE_ID)
    seen = Seen()
    links = []
    for kiosk in KIOSKS:
        link = Link(
            mqtt_config(port),
            topics,
            client_id=f"bench-kiosk-{kiosk}",
            outbox=outbox if kiosk == KIOSKS[0] else None,
        )
        link.subscribe(topics.events_upcoming(), functools.partial(seen.on_upcoming, kiosk))
        links.append(link)
    asking = links[0]
    asking.subscribe(topics.kiosk_response(KIOSKS[0]), seen.on_response)
    rng = random.Random(SEED + 1)
    timings: dict[str, list[float]] = {"every_kiosk": [], "first_kiosk": [], "answer": []}
    for link in links:
        link.start()
    try:
        if not all(link.wait_connected(CONNECT_TIMEOUT_S) for link in links):
            raise BenchmarkError("a kiosk's link did not connect")
        with seen.changed:
            if not seen.changed.wait_for(lambda: seen.everywhere(0), CONNECT_TIMEOUT_S):
                raise BenchmarkError("no retained events/upcoming with the event came")
        topic = topics.kiosk_request(KIOSKS[0])
        for n, member in enumerate(members, start=1):
            request = KioskRequest(
                action="signup", credential=credential(member), params={"event_id": EVENT_ID}
            )
            sent_at = time.perf_counter()
            asking.publish(topic, request)
            with seen.changed:
                done = functools.partial(seen.shown, n, request.id)
                if not seen.changed.wait_for(done, SIGNUP_TIMEOUT_S):
                    raise BenchmarkError(
                        f"sign-up {n}: not on every kiosk with its answer within"
                        f" {SIGNUP_TIMEOUT_S:g} s (answered: {request.id in seen.answers};"
                        f" highest count per kiosk: {seen.highest()})"
                    )
                if request.id in seen.refusals:
                    raise BenchmarkError(f"sign-up {n} was refused: {seen.refusals[request.id]}")
                answered = seen.answers[request.id]
                arrivals = [seen.counts[kiosk][n] for kiosk in KIOSKS]
            timings["every_kiosk"].append(max(arrivals) - sent_at)
            timings["first_kiosk"].append(min(arrivals) - sent_at)
            timings["answer"].append(answered - sent_at)
            time.sleep(rng.uniform(*GAP_S))
    finally:
        for link in links:
            link.stop()
    return timings


if __name__ == "__main__":
    raise SystemExit(main_alone(run, __doc__, DEFAULT_COUNT))
