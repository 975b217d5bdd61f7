"""Many simultaneous requests for one room slot end in exactly one booking.

Each contender has its own ``Store.open`` on the same SQLite file (its own
connections, as a separate process has), first as threads in this process,
then as real processes started with ``spawn``. A barrier releases them
together. Loopback is not even needed: SQLite's write lock is the arbiter.
"""

import multiprocessing
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub_server import bookings, places
from hub_server.bookings import BookingIn
from hub_server.config import CommunitySection
from hub_server.errors import Refused
from hub_server.models import RoomIn, build
from hub_server.store import Store
from tests.helpers.hub_data import ACTOR, seed

THREADS = 16
PROCESSES = 6
WAIT_S = 30.0
NOW = datetime(2026, 12, 1, 7, tzinfo=UTC)
SLOT = datetime(2026, 12, 1, 9, tzinfo=UTC)
MEMBERS = ("m-asa", "m-bjorn", "m-sigrid")


def prepare(path: Path) -> None:
    with Store.open(path) as store:
        seed(store)
        places.add_room(store, build(RoomIn, id="lookout", name="Lookout", capacity=8), ACTOR)


def attempt(path: Path, index: int, start: datetime, minutes: int, barrier: Any) -> str:
    """Open a store of our own, wait for the others, book; ``booked`` or the refusal's reason."""
    with Store.open(path) as store:
        data = build(
            BookingIn,
            room_id="lookout",
            member_id=MEMBERS[index % len(MEMBERS)],
            starts_at=start,
            minutes=minutes,
        )
        barrier.wait(WAIT_S)
        try:
            bookings.book(
                store,
                data,
                actor=f"racer-{index}",
                source="api",
                community=CommunitySection(),
                timezone="Europe/Stockholm",
                now=NOW,
            )
        except Refused as err:
            return err.reason
        return "booked"


def overlapping(index: int) -> tuple[datetime, int]:
    """The same slot, or one of three shifted variants; any two of them overlap."""
    return SLOT + timedelta(minutes=15 * (index % 4)), 60


def back_to_back(index: int) -> tuple[datetime, int]:
    """A slot of its own, right after the previous contender's."""
    return SLOT + timedelta(minutes=30 * index), 30


def race_threads(path: Path, slot: Callable[[int], tuple[datetime, int]]) -> list[str]:
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = [""] * THREADS

    def run(index: int) -> None:
        try:
            outcomes[index] = attempt(path, index, *slot(index), barrier)
        except Exception as err:  # any other exception is a failure of the test
            outcomes[index] = f"error: {type(err).__name__}: {err}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def booked_rows(path: Path) -> int:
    with Store.open(path) as store:
        return int(store.query_one("SELECT count(*) FROM bookings WHERE status = 'booked'")[0])


def test_threads_with_their_own_connections_book_one_slot_once(tmp_path):
    path = tmp_path / "hub.sqlite3"
    prepare(path)
    outcomes = race_threads(path, overlapping)
    assert sorted(outcomes) == ["booked"] + ["room_taken"] * (THREADS - 1), outcomes
    assert booked_rows(path) == 1


def test_threads_booking_different_slots_all_succeed(tmp_path):
    path = tmp_path / "hub.sqlite3"
    prepare(path)
    assert race_threads(path, back_to_back) == ["booked"] * THREADS
    assert booked_rows(path) == THREADS


def process_attempt(path: Path, index: int, barrier: Any, results: Any) -> None:
    """A contender in a process of its own; reports its outcome on ``results``."""
    try:
        outcome = attempt(path, index, *overlapping(index), barrier)
    except Exception as err:
        outcome = f"error: {type(err).__name__}: {err}"
    results.put((index, outcome))


def test_processes_book_one_slot_once(tmp_path):
    path = tmp_path / "hub.sqlite3"
    prepare(path)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=process_attempt, args=(path, i, barrier, results))
        for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = dict(results.get(timeout=WAIT_S) for _ in processes)
    finally:
        for process in processes:
            process.join(WAIT_S)
            if process.is_alive():
                process.kill()
                process.join()
    assert sorted(outcomes.values()) == ["booked"] + ["room_taken"] * (PROCESSES - 1), outcomes
    assert all(process.exitcode == 0 for process in processes)
    assert booked_rows(path) == 1
