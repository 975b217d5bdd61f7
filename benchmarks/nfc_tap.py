"""Tap → CardTap delivered through the nfcpy UDP path, next to bare nfcpy ``connect()``.

``hardware.emulator`` holds one NXP card (7-byte UID) in the simulated field
of nfcpy's UDP driver, in a background thread, for the whole measurement. So
every poll finds the card and the driver's 1 s wait for an empty field never
happens: it is excluded by design, since in service it only decides how long
a card waits for the next poll, not what a poll costs.

- ``hubtap``: a ``CardReader`` over ``NfcReaderDriver`` (``poll_interval_s=0``,
  ``retap_gap_s=0``, so every sighting of the held card is a tap). Latency runs
  from the start of the poll that found the card to the tap handler receiving
  the ``CardTap``: ``delivered_at - (tap.monotonic - tap.read_latency_s)``.
- ``bare_discover`` (the baseline): ``ContactlessFrontend.connect()`` on its own
  frontend, one sense iteration, from just before the call to ``on-discover``:
  sense and anticollision without activation, the work the driver does.
- ``bare_sense`` (informational): ``ContactlessFrontend.sense()`` alone, the call
  the driver makes; hubtap / bare_sense is what the reader and driver add to it.
- ``bare_activate`` (informational, not in the ratio): ``connect()`` up to
  ``on-connect``, i.e. with nfcpy's tag activation (AUTHENTICATE probe, re-sense,
  GET_VERSION).

The emulated card answers from a thread in this process, which a real card
does not. Left to the scheduler, each of a poll's five UDP exchanges costs a
cross-CPU wake-up or not depending on where the two threads happen to run, and
on a 2-core VM the latencies jump between about 130 and 280 µs in the middle of
a block. So the benchmark pins itself to one CPU while it runs (``--no-pin``
leaves it to the scheduler); the pinned figures are the software's cost.

The sides take turns in alternating blocks, so drift in the machine hits them
alike; only one of them polls the emulator at a time (the reader is closed
before the other side starts). Each side is warmed up first, and the first
samples of every block are dropped (a reader just opened, the emulator just
switched from the other side).
"""

import gc
import queue
import socket
import threading
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import nfc

from benchmarks.common import (
    BenchmarkError,
    Result,
    latency_summary,
    main_pinned,
    pinned,
)
from hardware.emulator import CardEmulator
from hardware.errors import EmulatorError, ReaderError
from hardware.nfc_reader import NfcReaderDriver
from hardware.reader import CardReader, ReaderStats, ReaderTiming
from hardware.taps import CardTap
from hub_server.demo import free_port

DEFAULT_COUNT = 500
UID = "04A1B2C3D4E5F6"
TECHNOLOGY = "106A"
ROUNDS = 5
WARMUP = 50
BLOCK_SKIP = 2
"""Samples dropped at the start of every block, on every side."""
ACTIVATE_MAX = 250
"""At most this many ``bare_activate`` samples (about 10 ms each)."""
RATIO_MAX = 1.2
TAP_TIMEOUT_S = 5.0
"""A block fails if no tap (or discovery) comes within this long."""
OPEN_TIMEOUT_S = 10.0
HOLD_S = 600.0
"""The emulator takes the card away after this long at the latest."""
READER_ID = "bench"
QUANTILES = ("p50", "p99", "mean")
EXCLUDED = (
    "nfcpy's UDP driver waits 1.0 s for an answer when no card is in the field; "
    "the card is held in the field throughout, so no poll includes that wait "
    "(in service it decides how long a new card waits for the next poll, "
    "whatever the software)."
)

Measure = Callable[[str, int], list[float]]


def run(count: int = DEFAULT_COUNT, pin: bool = True) -> Result:
    """Measure ``count`` taps through a ``CardReader`` and ``count`` bare discoveries.

    With ``pin``, this thread and the threads it starts run on one CPU.
    """
    port = free_port(kind=socket.SOCK_DGRAM)
    path = f"udp:127.0.0.1:{port}"
    activations = min(count, ACTIVATE_MAX)
    result: Result = {
        "benchmark": "nfc_tap",
        "count": count,
        "activate_count": activations,
        "warmup": WARMUP,
        "rounds": ROUNDS,
        "block_skip": BLOCK_SKIP,
        "card": f"ISO 14443A {UID} (emulated NTAG213)",
        "path": "udp:127.0.0.1:<free port>",
        "nfcpy": version("nfcpy"),
        "hubtap_bare_ratio_max": RATIO_MAX,
        "excluded": EXCLUDED,
    }
    started = time.perf_counter()
    reader_stats = ReaderStats()
    sides: dict[str, Measure] = {
        "hubtap": lambda p, n: _hubtap_block(p, n, reader_stats),
        "bare_discover": lambda p, n: _bare_block(p, n, _bare_discover),
        "bare_sense": lambda p, n: _bare_block(p, n, _bare_sense),
    }
    latencies: dict[str, list[float]] = {name: [] for name in (*sides, "bare_activate")}
    try:
        with pinned(pin) as cpus, CardEmulator(port=port).holding(UID, HOLD_S):
            result["cpus"] = cpus
            for measure in sides.values():
                measure(path, WARMUP)
            _bare_block(path, min(WARMUP, activations), _bare_activate)
            for size, activate_size in zip(
                _blocks(count, ROUNDS), _blocks(activations, ROUNDS), strict=True
            ):
                for name, measure in sides.items():
                    latencies[name] += measure(path, size)
                latencies["bare_activate"] += _bare_block(path, activate_size, _bare_activate)
    except (BenchmarkError, EmulatorError, ReaderError, OSError) as err:
        result.update(error=f"{type(err).__name__}: {err}", meets_target=False)
        return result
    for name, values in latencies.items():
        result[name] = latency_summary(values)
    result["bare_sense"]["note"] = "informational: sense() alone, the call the driver makes"
    result["bare_activate"]["note"] = (
        "informational: connect() with nfcpy's tag activation; not used for the ratio"
    )
    result["hubtap_reader"] = {
        "reads": reader_stats.reads,
        "taps": reader_stats.taps,
        "errors": reader_stats.errors,
        "opens": reader_stats.opens,
    }
    ratios = _ratios(result["hubtap"], result["bare_discover"])
    result["ratios"] = ratios
    result["ratios_vs_sense"] = {
        **_ratios(result["hubtap"], result["bare_sense"]),
        "note": "informational: hubtap / bare sense(), what CardReader and the driver add",
    }
    result["meets_target"] = max(ratios["p50"], ratios["p99"]) <= RATIO_MAX
    result["duration_s"] = round(time.perf_counter() - started, 2)
    return result


def _hubtap_block(path: str, count: int, totals: ReaderStats) -> list[float]:
    """Run a fresh ``CardReader`` until it has delivered ``count`` (+ skipped) taps."""
    wanted = count + BLOCK_SKIP
    delivered: queue.Queue[tuple[float, CardTap]] = queue.Queue()
    enough = threading.Event()

    def on_tap(tap: CardTap) -> None:
        delivered_at = time.monotonic()
        delivered.put((delivered_at, tap))
        if delivered.qsize() >= wanted:
            enough.set()  # the main thread sleeps until then: it takes no GIL time per tap

    driver = NfcReaderDriver(path, [TECHNOLOGY], poll_interval_s=0)
    reader = CardReader(driver, READER_ID, ReaderTiming(retap_gap_s=0))
    gc.collect()
    reader.start(on_tap)
    try:
        if not reader.wait_open(OPEN_TIMEOUT_S):
            raise BenchmarkError(f"the reader did not open {path} within {OPEN_TIMEOUT_S:g} s")
        seen = 0
        while not enough.wait(TAP_TIMEOUT_S):  # ends: each turn needs a new tap
            now_seen = delivered.qsize()
            if now_seen == seen:
                raise BenchmarkError(
                    f"no tap within {TAP_TIMEOUT_S:g} s after {seen} of {wanted} "
                    f"(reader errors: {reader.stats.errors}, last: {reader.stats.last_error})"
                )
            seen = now_seen
    finally:
        reader.close()
        for name in ("reads", "taps", "errors", "opens"):
            setattr(totals, name, getattr(totals, name) + getattr(reader.stats, name))
    if reader.is_open:
        raise BenchmarkError("the reader did not stop polling when closed")
    taps = [delivered.get_nowait() for _ in range(wanted)]
    latencies: list[float] = []
    for delivered_at, tap in taps[BLOCK_SKIP:]:
        if tap.uid_hex != UID:
            raise BenchmarkError(f"the reader read {tap.uid_hex}, not {UID}")
        latencies.append(delivered_at - (tap.monotonic - tap.read_latency_s))
    return latencies


def _bare_block(path: str, count: int, sample: Callable[[Any], float]) -> list[float]:
    """``count`` (+ skipped) samples of bare nfcpy on a frontend of its own."""
    clf = nfc.ContactlessFrontend(path)
    latencies: list[float] = []
    gc.collect()
    try:
        for i in range(count + BLOCK_SKIP):
            latency = sample(clf)
            if i >= BLOCK_SKIP:
                latencies.append(latency)
    finally:
        clf.close()  # mutes the field: the emulator is free for the next side at once
    return latencies


def _bare_discover(clf: Any) -> float:
    """One ``connect()``: seconds from the call to ``on-discover`` (no activation)."""

    def on_discover(target: Any) -> bool:
        seen.append((time.monotonic(), bytes(target.sdd_res or b"")))
        return False  # sense and anticollision only, like the driver

    seen: list[tuple[float, bytes]] = []
    return _bare_connect(clf, {"on-discover": on_discover}, seen, "discover")


def _bare_activate(clf: Any) -> float:
    """One ``connect()``: seconds from the call to ``on-connect`` (after activation)."""

    def on_connect(tag: Any) -> bool:
        seen.append((time.monotonic(), bytes(tag.identifier)))
        return False  # return the tag at once instead of waiting for it to leave

    seen: list[tuple[float, bytes]] = []
    return _bare_connect(clf, {"on-connect": on_connect}, seen, "activate")


def _bare_connect(
    clf: Any, callback: dict[str, Any], seen: list[tuple[float, bytes]], what: str
) -> float:
    options = {
        "targets": [TECHNOLOGY],
        "iterations": 1,
        "interval": 0,
        "beep-on-connect": False,
        **callback,
    }
    deadline = time.monotonic() + TAP_TIMEOUT_S
    started = time.monotonic()
    clf.connect(rdwr=options, terminate=lambda: bool(seen) or time.monotonic() > deadline)
    if not seen:
        raise BenchmarkError(f"bare nfcpy did not {what} the card within {TAP_TIMEOUT_S:g} s")
    at, uid = seen[0]
    _check_uid(uid)
    return at - started


def _bare_sense(clf: Any) -> float:
    """One ``sense()``, the call ``NfcReaderDriver.poll`` makes: seconds to its return."""
    targets = [nfc.clf.RemoteTarget(TECHNOLOGY)]
    deadline = time.monotonic() + TAP_TIMEOUT_S
    while time.monotonic() < deadline:  # an empty sense takes 1 s: a few turns at most
        started = time.monotonic()
        target = clf.sense(*targets, iterations=1, interval=0)
        if target is not None:
            at = time.monotonic()
            _check_uid(bytes(target.sdd_res or b""))
            return at - started
    raise BenchmarkError(f"bare nfcpy did not sense the card within {TAP_TIMEOUT_S:g} s")


def _check_uid(uid: bytes) -> None:
    if uid.hex().upper() != UID:
        raise BenchmarkError(f"bare nfcpy read {uid.hex().upper()}, not {UID}")


def _ratios(side: Result, baseline: Result) -> dict[str, float]:
    return {q: round(side[f"{q}_us"] / baseline[f"{q}_us"], 3) for q in QUANTILES}


def _blocks(count: int, rounds: int) -> list[int]:
    """Split ``count`` into ``rounds`` nearly equal blocks."""
    return [count // rounds + (1 if i < count % rounds else 0) for i in range(rounds)]


if __name__ == "__main__":
    raise SystemExit(main_pinned(run, __doc__, DEFAULT_COUNT, "taps measured per side"))
