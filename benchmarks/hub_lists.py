"""The hub's access lists for 10,000 members at 50 doors: computing them and publishing them.

The store is built by ``benchmarks.hub_common`` (``Store.open`` on a file):
10,000 members and their 10,700 cards (10,500 active; 10,400 of them belong
to members not deactivated, so every list has 10,400 entries), 50 doors in
four groups, two of which (``studio``, ``lab``) have access rules admitting
some tiers within schedules; so the doors share two distinct sets of entries
(with and without tiers), as ``access_lists.compute`` builds them once per
kind of group.

- ``compute``: ``access_lists.compute(store, timezone)``, ``count`` times:
  every door's list from the store (one query for the cards, the entries per
  kind of group, their digests, each door's policy).
- ``first_pass``: a new ``ListPublisher`` and its first ``check()``, as at
  the server's start: compute, record every door's version in
  ``door_lists``, and build and encode the 50 snapshots (the benchmark's
  publisher encodes each message with its topic's codec, as ``Link.publish``
  does, and only counts the bytes). ``FIRST_PASSES`` times, each with a new
  publisher (versions are then kept: the content did not change).
- ``one_card``: after that, per round one card is revoked (``cards.revoke``,
  a write on another connection, as a ``hubtap`` command makes it) and
  ``check()`` is timed: compute, the diff, and 50 deltas of one removal
  each, built and encoded. Then ``flush(force=True)``: the 50 snapshots the
  deltas made due (the server sends them ``snapshot_interval_s`` later).
- ``idle_check``: ``check()`` when nothing changed (the 0.2 s poll): one
  query of the change counter.

The process is pinned to one CPU, as the door benchmarks are (``--no-pin``
leaves it to the scheduler). No target is stated; reported only.
"""

import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import BenchmarkError, Result, main_pinned, pinned
from benchmarks.door_common import ms_summary
from benchmarks.hub_common import (
    ACTOR,
    MEMBERS,
    TIMEZONE,
    credential,
    many_doors,
    member_id,
    member_kind,
    populate,
)
from hub_server import access_lists, cards
from hub_server.errors import HubError
from hub_server.list_publisher import ListPublisher
from hub_server.store import Store
from hublink.errors import HublinkError
from hublink.messages import Message
from hublink.topics import Topics

DEFAULT_COUNT = 20
DOORS = 50
FIRST_PASSES = 3
ONE_CARD_ROUNDS = 10
IDLE_CHECKS = 200
SITE_ID = "bench-lists"


class EncodingPublisher:
    """Stands in for the hub's link: encodes like ``Link.publish``, keeps only the sizes."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.sent: list[tuple[str, int]] = []  # topic name, payload bytes

    def publish(self, topic: str, message: Message) -> bool:
        """Encode ``message`` with ``topic``'s codec; note its size."""
        spec = self.topics.spec_for(topic)
        self.sent.append((spec.name, len(spec.codec.encode(message))))
        return True

    def take(self) -> list[tuple[str, int]]:
        """What was sent since the last call."""
        sent, self.sent = self.sent, []
        return sent


def run(count: int = DEFAULT_COUNT, pin: bool = True) -> Result:
    """Time ``count`` computations, the first publication passes and one-card changes."""
    result: Result = {
        "benchmark": "hub_lists",
        "members": MEMBERS,
        "doors": DOORS,
        "compute_rounds": count,
        "first_passes": FIRST_PASSES,
        "one_card_rounds": ONE_CARD_ROUNDS,
        "target": "none stated; reported only",
    }
    started = time.perf_counter()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="hubtap-hub-lists-") as workdir,
            Store.open(Path(workdir) / "hub.sqlite3") as store,
        ):
            t0 = time.perf_counter()
            populate(store, MEMBERS, many_doors(DOORS))
            result["populate_s"] = round(time.perf_counter() - t0, 2)
            with pinned(pin) as cpus:
                result["cpus"] = cpus
                result.update(_measure(store, count))
    except (BenchmarkError, HubError, HublinkError, OSError) as err:
        result["error"] = f"{type(err).__name__}: {err}"
        return result
    result["duration_s"] = round(time.perf_counter() - started, 2)
    return result


def _measure(store: Store, count: int) -> Result:
    lists = access_lists.compute(store, TIMEZONE)
    entry_sets = {id(door_list.entries): door_list.entries for door_list in lists.values()}
    groups = sorted({door_list.group for door_list in lists.values()})
    out: Result = {
        "lists": len(lists),
        "groups": groups,
        "distinct_entry_sets": len(entry_sets),
        "entries_per_set": sorted(len(entries) for entries in entry_sets.values()),
        "distinct_digests": len({door_list.digest for door_list in lists.values()}),
    }
    if len(lists) != DOORS or len(entry_sets) < 2:
        raise BenchmarkError(f"{len(lists)} lists with {len(entry_sets)} entry sets")
    out["compute"] = ms_summary(_repeat(lambda: access_lists.compute(store, TIMEZONE), count))

    topics = Topics(SITE_ID)
    link = EncodingPublisher(topics)
    first: list[float] = []
    publisher = ListPublisher(store, link, topics, TIMEZONE)
    for _ in range(FIRST_PASSES):
        publisher = ListPublisher(store, link, topics, TIMEZONE)
        first.append(_timed(publisher.check))
    sent = link.take()
    snapshots = [size for name, size in sent if name == "door_acl_snapshot"]
    if len(snapshots) != DOORS * FIRST_PASSES:
        raise BenchmarkError(f"{len(snapshots)} snapshots sent, not {DOORS * FIRST_PASSES}")
    out["first_pass"] = {
        **ms_summary(first),
        "snapshots_per_pass": DOORS,
        "snapshot_bytes_mean": round(sum(snapshots) / len(snapshots)),
        "bytes_per_pass": sum(snapshots) // FIRST_PASSES,
        "compute_ms_in_last": round(publisher.stats.last_compute_ms, 1),
    }

    change, flush, deltas, flushed = [], [], [], []
    for card_id in _cards_to_revoke(store, ONE_CARD_ROUNDS):
        cards.revoke(store, card_id, ACTOR)
        change.append(_timed(publisher.check))
        deltas += [size for name, size in link.take() if name == "door_acl_delta"]
        flush.append(_timed(lambda: publisher.flush(force=True)))
        flushed += [size for name, size in link.take() if name == "door_acl_snapshot"]
    if len(deltas) != DOORS * ONE_CARD_ROUNDS or len(flushed) != DOORS * ONE_CARD_ROUNDS:
        raise BenchmarkError(f"{len(deltas)} deltas and {len(flushed)} snapshots after the changes")
    out["one_card"] = {
        "check": ms_summary(change),
        "deltas_per_change": DOORS,
        "delta_bytes_mean": round(sum(deltas) / len(deltas)),
        "snapshot_flush": ms_summary(flush),
        "compute_ms_in_last": round(publisher.stats.last_compute_ms, 1),
    }
    out["idle_check"] = ms_summary(_repeat(publisher.check, IDLE_CHECKS, collect=False))
    return out


def _cards_to_revoke(store: Store, rounds: int) -> list[int]:
    """Card 0 of ``rounds`` active members spread over the site (revoked one per round)."""
    found: list[int] = []
    for i in range(5, MEMBERS, MEMBERS // (rounds * 2)):
        if member_kind(i)[2] != "active":
            continue
        row = store.query_one(
            "SELECT id FROM credentials WHERE hash = ? AND status = 'active'", (credential(i),)
        )
        if row is None:
            raise BenchmarkError(f"member {member_id(i)} has no active card 0")
        found.append(int(row[0]))
        if len(found) == rounds:
            return found
    raise BenchmarkError(f"found {len(found)} cards to revoke, not {rounds}")


def _timed(call: Callable[[], object], collect: bool = True) -> float:
    if collect:  # no earlier round's garbage in this one's time
        gc.collect()
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def _repeat(call: Callable[[], object], count: int, collect: bool = True) -> list[float]:
    return [_timed(call, collect) for _ in range(count)]


if __name__ == "__main__":
    raise SystemExit(main_pinned(run, __doc__, DEFAULT_COUNT, "compute rounds"))
