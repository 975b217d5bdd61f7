"""How long a door takes to take up a 100,000-card access list, and a delta on top.

The list is the realistic one of ``benchmarks.door_common``, encoded with the
snapshot topic's codec as the hub publishes it (the payload's size is
reported next to the codec's limit and ``door.controller.LARGE_PAYLOAD``).
The door's sync thread gets that payload undecoded and takes it up in one of
three ways, each timed here as the door calls it:

- ``child``: a payload over ``LARGE_PAYLOAD`` (1 MiB; 100,000 cards are about
  15 MB) goes to ``door.list_apply.apply_in_child(replica, payload)``: a
  ``python -m door.list_apply`` child decodes it, validates the entries in
  batches of 2,000 and writes them to the replica's SQLite file in one
  transaction, then the parent runs ``replica.reload()``. Timed end to end
  (child start, decode, apply, reload) per round into a new replica
  (``new``, a door's first sync) and then the same cards at the next
  version into that replica (``replace``, a resync: every row deleted and
  inserted again). ``reload_ms``: ``replica.reload()`` alone on the
  100,000-card replica. ``fixed_cost``: the same child command given an
  empty payload (it starts, imports, opens the replica and refuses the
  payload): what a child costs before any card. ``peak``: the child command
  run under ``/usr/bin/time`` on an empty payload and on the 100,000-card
  one, its maximum resident size (informational; left out without
  ``/usr/bin/time``).
- ``in_thread``: ``door.list_apply.apply_payload(replica, payload)``, what a
  list under ``LARGE_PAYLOAD`` takes in the sync thread (decode, batched
  validation, one transaction), here on the 100,000 cards to compare: into
  a new replica and replacing, as above. ``decode_in_parts``: the JSON parse
  and the head's validation alone (``ACL_SNAPSHOT.decode_in_parts``).
- ``skip``: a retained snapshot at the replica's version (the hub
  republished it, or the link reconnected) is recognised with
  ``door.controller.peek_version(payload)`` and not decoded: that call,
  ``SKIP_COUNT`` times on the 15 MB payload.

Then ``delta``: on the 100,000-card replica, per round an ``AclDelta`` of 100
upserts (50 changed cards, 50 new ones) and 100 removes, following the
replica's version: ``ACL_DELTA.decode`` and ``Replica.apply_delta``.

No target is stated; the results are reported only.
"""

import gc
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from benchmarks.common import BenchmarkError, Result, count_parser, emit, has_error, parse_counted
from benchmarks.door_common import (
    DOOR_ID,
    ENTRIES,
    REFERENCE,
    at_version,
    build_entry,
    encoded,
    ms_summary,
)
from door.controller import LARGE_PAYLOAD, peek_version
from door.errors import DoorError
from door.list_apply import REFUSED, apply_in_child, apply_payload
from door.replica import DeltaOutcome, Replica
from hublink.errors import HublinkError
from hublink.messages import ACL_DELTA, ACL_SNAPSHOT, AclDelta

DEFAULT_ROUNDS = 3
DELTA_ROUNDS = 20
UPSERTS_CHANGED = 50
UPSERTS_NEW = 50
REMOVES = 100
SEED = 11
SKIP_COUNT = 1_000
FIXED_COST_RUNS = 3
CHILD_TIMEOUT_S = 120.0
TIME = "/usr/bin/time"
MB = 1e6

Apply = Callable[[Replica, bytes], bool]


def run(rounds: int = DEFAULT_ROUNDS, entries: int = ENTRIES) -> Result:
    """``rounds`` take-ups of ``entries`` cards each way, the skip check, then the deltas."""
    listed = encoded(entries)
    first = listed.payload
    second = at_version(first, listed.version + 1)
    result: Result = {
        "benchmark": "door_list",
        "entries": entries,
        "payload_bytes": len(first),
        "codec_limit_bytes": ACL_SNAPSHOT.max_bytes,
        "large_payload_bytes": LARGE_PAYLOAD,
        "service_path": "child process" if len(first) > LARGE_PAYLOAD else "in thread",
        "rounds": rounds,
        "target": "none stated; reported only",
    }
    started = time.perf_counter()
    timings: dict[str, list[float]] = {
        name: []
        for name in (
            "child_new",
            "child_replace",
            "reload",
            "thread_new",
            "thread_replace",
            "decode_in_parts",
        )
    }
    try:
        with tempfile.TemporaryDirectory(prefix="hubtap-list-") as workdir:
            folder = Path(workdir)
            fixed = _fixed_cost(folder)
            for i in range(rounds):
                for name, apply in (("child", apply_in_child), ("thread", apply_payload)):
                    with Replica(folder / f"{name}-{i}.sqlite3", DOOR_ID) as replica:
                        _take_up(
                            apply,
                            replica,
                            (first, second),
                            entries=entries,
                            name=name,
                            timings=timings,
                        )
                        if name != "child":
                            continue
                        gc.collect()
                        t0 = time.perf_counter()
                        replica.reload()
                        timings["reload"].append(time.perf_counter() - t0)
                        if i == rounds - 1:
                            result["replica_bytes"] = replica.path.stat().st_size
                            result["delta"] = _deltas(replica, entries)
                gc.collect()
                t0 = time.perf_counter()
                ACL_SNAPSHOT.decode_in_parts(first, "entries")
                timings["decode_in_parts"].append(time.perf_counter() - t0)
            peak = _child_peak(folder, first, entries)
    except (BenchmarkError, DoorError, HublinkError, OSError, subprocess.SubprocessError) as err:
        result["error"] = f"{type(err).__name__}: {err}"
        return result
    result["child"] = {
        "new": _seconds(timings["child_new"]),
        "replace": _seconds(timings["child_replace"]),
        "reload_ms": [round(v * 1e3, 2) for v in timings["reload"]],
        "fixed_cost": fixed,
        "peak": peak,
    }
    result["in_thread"] = {
        "new": _seconds(timings["thread_new"]),
        "replace": _seconds(timings["thread_replace"]),
        "decode_in_parts": _seconds(timings["decode_in_parts"]),
    }
    result["skip"] = _skip(second, listed.version + 1)
    result["duration_s"] = round(time.perf_counter() - started, 2)
    return result


def _take_up(
    apply: Apply,
    replica: Replica,
    payloads: tuple[bytes, bytes],
    *,
    entries: int,
    name: str,
    timings: dict[str, list[float]],
) -> None:
    """The first payload into the empty ``replica``, then the second (the next version)."""
    for payload, phase in zip(payloads, ("new", "replace"), strict=True):
        gc.collect()
        t0 = time.perf_counter()
        changed = apply(replica, payload)
        t1 = time.perf_counter()
        version = peek_version(payload)
        if not changed or len(replica) != entries or replica.version != version:
            raise BenchmarkError(
                f"{name} {phase}: the replica holds {len(replica)} cards at version "
                f"{replica.version} (changed: {changed}), not {entries} at {version}"
            )
        timings[f"{name}_{phase}"].append(t1 - t0)


def _child_command(path: Path) -> list[str]:
    """The command ``apply_in_child`` runs for a replica at ``path``."""
    return [sys.executable, "-m", "door.list_apply", str(path), DOOR_ID]


def _run_child(command: list[str], stdin: Path) -> tuple[float, int, str]:
    """Run ``command`` with ``stdin``: seconds, exit code and stderr."""
    with stdin.open("rb") as source:
        t0 = time.perf_counter()
        done = subprocess.run(
            command, stdin=source, capture_output=True, timeout=CHILD_TIMEOUT_S, check=False
        )
        seconds = time.perf_counter() - t0
    return seconds, done.returncode, done.stderr.decode(errors="replace").strip()


def _peak_rss(command: list[str], stdin: Path) -> int | None:
    """The peak resident size of ``command`` in bytes, from ``/usr/bin/time``; None without it.

    Not ``os.wait4``'s ``ru_maxrss``: a child that ``subprocess`` starts with
    vfork and exec inherits this process's high-water mark through the exec.
    """
    if not Path(TIME).exists():
        return None
    with tempfile.NamedTemporaryFile(suffix=".txt") as report:
        measured = [TIME, "-f", "%M", "-o", report.name, *command]
        _, code, stderr = _run_child(measured, stdin)
        if code not in {0, REFUSED}:
            raise BenchmarkError(f"{' '.join(measured)} exited {code}: {stderr}")
        kib = Path(report.name).read_text().split()[-1]
    return int(kib) * 1024


def _fixed_cost(folder: Path) -> Result:
    """The child command given an empty payload: start, imports, replica, refusal."""
    empty = folder / "empty.json"
    empty.write_bytes(b"")
    runs: list[float] = []
    for i in range(FIXED_COST_RUNS):
        seconds, code, stderr = _run_child(_child_command(folder / f"fixed-{i}.sqlite3"), empty)
        if code != REFUSED:
            raise BenchmarkError(f"the child exited {code} on an empty payload: {stderr}")
        runs.append(seconds)
    return _seconds(runs)


def _child_peak(folder: Path, payload: bytes, entries: int) -> Result:
    """Peak RSS of the child command on an empty payload and on ``payload`` (a new replica)."""
    empty, source = folder / "empty.json", folder / "payload.json"
    empty.write_bytes(b"")
    source.write_bytes(payload)
    fixed = _peak_rss(_child_command(folder / "peak-empty.sqlite3"), empty)
    path = folder / "peak.sqlite3"
    full = _peak_rss(_child_command(path), source)
    if full is None or fixed is None:
        return {"note": f"{TIME} is not installed: peak memory not measured"}
    with Replica(path, DOOR_ID) as replica:
        if len(replica) != entries:
            raise BenchmarkError(f"the child left {len(replica)} cards, not {entries}")
    return {
        "empty_payload_rss_mb": round(fixed / MB, 1),
        "list_rss_mb": round(full / MB, 1),
        "note": f"informational: maximum resident set of the child command under {TIME}, "
        "payload from a file",
    }


def _skip(payload: bytes, version: int) -> Result:
    """``peek_version`` on the whole payload, ``SKIP_COUNT`` times."""
    times: list[float] = []
    clock = time.perf_counter
    for _ in range(SKIP_COUNT):
        t0 = clock()
        found = peek_version(payload)
        times.append(clock() - t0)
        if found != version:
            raise BenchmarkError(f"peek_version gave {found}, not {version}")
    return {"peek_version": ms_summary(times)}


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
    parser = count_parser(__doc__, DEFAULT_ROUNDS, "take-up rounds")
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
