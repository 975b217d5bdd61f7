"""How long a door takes to take up a 100,000-card access list, and a delta on top.

The list is the realistic one of ``benchmarks.door_common``, encoded with the
snapshot topic's codec as the hub publishes it (the payload's size is
reported next to the codec's limit).

- ``snapshot``: per round, ``hublink.messages.ACL_SNAPSHOT.decode(payload)``
  (JSON parsing and pydantic validation, what the door's link does on
  receipt), then ``Replica.apply_snapshot`` into a new replica in a temporary
  folder (``apply_new``, a door's first sync), then the same list again at
  the next version into that replica (``apply_replace``, a resync: every row
  deleted and inserted again in one transaction).
- ``delta``: on the 100,000-card replica, per round an ``AclDelta`` of 100
  upserts (50 changed cards, 50 new ones) and 100 removes, following the
  replica's version: ``ACL_DELTA.decode`` and ``Replica.apply_delta``.

No target is stated; the results are reported only.
"""

import gc
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from benchmarks.common import BenchmarkError, Result, count_parser, emit, has_error, parse_counted
from benchmarks.door_common import (
    DOOR_ID,
    ENTRIES,
    REFERENCE,
    build_entry,
    encoded,
    ms_summary,
)
from door.errors import DoorError
from door.replica import DeltaOutcome, Replica
from hublink.errors import HublinkError
from hublink.messages import ACL_DELTA, ACL_SNAPSHOT, AclDelta

DEFAULT_ROUNDS = 3
DELTA_ROUNDS = 20
UPSERTS_CHANGED = 50
UPSERTS_NEW = 50
REMOVES = 100
SEED = 11


def run(rounds: int = DEFAULT_ROUNDS, entries: int = ENTRIES) -> Result:
    """``rounds`` snapshot decodes and applies of ``entries`` cards, then the deltas."""
    listed = encoded(entries)
    result: Result = {
        "benchmark": "door_list",
        "entries": entries,
        "payload_bytes": len(listed.payload),
        "codec_limit_bytes": ACL_SNAPSHOT.max_bytes,
        "rounds": rounds,
        "target": "none stated; reported only",
    }
    started = time.perf_counter()
    timings: dict[str, list[float]] = {"decode": [], "apply_new": [], "apply_replace": []}
    try:
        with tempfile.TemporaryDirectory(prefix="hubtap-list-") as workdir:
            for i in range(rounds):
                path = Path(workdir) / f"acl-{i}.sqlite3"
                replica = Replica(path, DOOR_ID)
                try:
                    _snapshot_round(replica, listed.payload, entries, timings)
                    if i == rounds - 1:
                        result["replica_bytes"] = path.stat().st_size
                        result["delta"] = _deltas(replica, entries)
                finally:
                    replica.close()
    except (BenchmarkError, DoorError, HublinkError, OSError) as err:
        result["error"] = f"{type(err).__name__}: {err}"
        return result
    result["snapshot"] = {name: _seconds(values) for name, values in timings.items()}
    result["duration_s"] = round(time.perf_counter() - started, 2)
    return result


def _snapshot_round(
    replica: Replica, payload: bytes, entries: int, timings: dict[str, list[float]]
) -> None:
    gc.collect()
    t0 = time.perf_counter()
    snapshot = ACL_SNAPSHOT.decode(payload)
    t1 = time.perf_counter()
    replica.apply_snapshot(snapshot)
    t2 = time.perf_counter()
    again = snapshot.model_copy(update={"version": snapshot.version + 1})
    t3 = time.perf_counter()
    replica.apply_snapshot(again)
    t4 = time.perf_counter()
    if len(replica) != entries or replica.version != again.version:
        raise BenchmarkError(
            f"the replica holds {len(replica)} cards at version {replica.version}, "
            f"not {entries} at {again.version}"
        )
    timings["decode"].append(t1 - t0)
    timings["apply_new"].append(t2 - t1)
    timings["apply_replace"].append(t4 - t3)


def _deltas(replica: Replica, entries: int) -> Result:
    """``DELTA_ROUNDS`` deltas, each on distinct cards: decode and apply times."""
    rng = random.Random(SEED)
    touched = rng.sample(range(1, entries), DELTA_ROUNDS * (REMOVES + UPSERTS_CHANGED))
    decode: list[float] = []
    apply: list[float] = []
    sizes: list[int] = []
    expected = entries
    for r in range(DELTA_ROUNDS):
        chosen = touched[r * (REMOVES + UPSERTS_CHANGED) : (r + 1) * (REMOVES + UPSERTS_CHANGED)]
        removes, changed = chosen[:REMOVES], chosen[REMOVES:]
        fresh = range(entries + r * UPSERTS_NEW, entries + (r + 1) * UPSERTS_NEW)
        upserts = [
            build_entry(i, rng).model_copy(
                update={"valid_until": REFERENCE + timedelta(days=365 + r)}
            )
            for i in changed
        ] + [build_entry(i, rng) for i in fresh]
        delta = AclDelta(
            door_id=DOOR_ID,
            from_version=replica.version,
            to_version=replica.version + 1,
            upserts=tuple(upserts),
            removes=tuple(build_entry(i, rng).credential for i in removes),
        )
        payload = ACL_DELTA.encode(delta)
        t0 = time.perf_counter()
        received = ACL_DELTA.decode(payload)
        t1 = time.perf_counter()
        outcome = replica.apply_delta(received)
        t2 = time.perf_counter()
        expected += UPSERTS_NEW - REMOVES
        if outcome is not DeltaOutcome.APPLIED or len(replica) != expected:
            raise BenchmarkError(
                f"delta {r}: {outcome.value}, {len(replica)} cards (expected {expected})"
            )
        decode.append(t1 - t0)
        apply.append(t2 - t1)
        sizes.append(len(payload))
    return {
        "rounds": DELTA_ROUNDS,
        "upserts": UPSERTS_CHANGED + UPSERTS_NEW,
        "removes": REMOVES,
        "payload_bytes": max(sizes),
        "codec_limit_bytes": ACL_DELTA.max_bytes,
        "decode": ms_summary(decode),
        "apply": ms_summary(apply),
    }


def _seconds(values: Sequence[float]) -> Result:
    return {
        "runs_s": [round(v, 3) for v in values],
        "median_s": round(statistics.median(values), 3),
        "max_s": round(max(values), 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its JSON; 1 on error."""
    parser = count_parser(__doc__, DEFAULT_ROUNDS, "snapshot rounds")
    parser.add_argument(
        "--entries", type=int, default=ENTRIES, help=f"cards in the list (default {ENTRIES:,})"
    )
    args = parse_counted(parser, argv)
    if args.entries <= DELTA_ROUNDS * (REMOVES + UPSERTS_CHANGED):
        parser.error(f"--entries must be over {DELTA_ROUNDS * (REMOVES + UPSERTS_CHANGED)}")
    result = run(args.count, args.entries)
    emit(result)
    return 1 if has_error(result) else 0


if __name__ == "__main__":
    raise SystemExit(main())
