"""Run every benchmark; print the results as one JSON document.

The link benchmarks share one Mosquitto; the NFC tap and lock benchmarks need
none and run after it has stopped.

The document is also written to ``build/bench/results.json``. Exits 1 if a
benchmark could not finish; a missed target is reported, not an error.
"""

import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import link_roundtrip, lock_energise, nfc_tap, outbox_drain
from benchmarks.common import Result, arguments, broker_settings, emit, has_error, mosquitto
from benchmarks.machine import machine_info

RESULTS = Path(__file__).resolve().parent.parent / "build" / "bench" / "results.json"
DEFAULT_COUNT = 10_000


def main() -> int:
    """Run the benchmarks, print and save the results."""
    args = arguments(__doc__, DEFAULT_COUNT)
    settings = broker_settings(args)
    started = time.perf_counter()
    result: Result = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "broker_settings": list(settings),
    }
    with mosquitto(settings) as port:
        result["link_roundtrip"] = link_roundtrip.run(port, args.count)
        result["outbox_drain"] = outbox_drain.run(port, args.count)
    result["nfc_tap"] = nfc_tap.run(args.count)
    result["lock_energise"] = lock_energise.run(args.count)  # no target: reported only
    result["targets_met"] = {
        "link_paho_ratio_max": result["link_roundtrip"]["meets_target"],
        "drain_rate_min": result["outbox_drain"]["meets_target"],
        "nfc_tap_ratio_max": result["nfc_tap"]["meets_target"],
    }
    result["duration_s"] = round(time.perf_counter() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("w") as file:
        emit(result, file)
    emit(result)
    return 1 if has_error(result) else 0


if __name__ == "__main__":
    raise SystemExit(main())
