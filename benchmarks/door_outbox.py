"""10,000 door events queued offline, delivered to the hub after the door reconnects.

The door side is a ``Link`` with the door's durable ``Outbox`` (``synchronous
= "full"``, the door's default) that is not started, as while the broker is
out of reach: ``count`` ``AccessEvent``s, as ``DoorController.on_tap``
publishes them (a credential hash, reason, member, role, ``card_hint`` and
``timing``), are published on ``door/<door_id>/event`` and committed to the
outbox (the enqueue time is reported). Then the Link is started and the time
runs from ``start()`` until

- ``drain_s``: the outbox is empty, i.e. Mosquitto has acknowledged every
  event (polled every 5 ms), and
- ``last_received_s``: a hub-side ``Link`` in a separate process (as the hub
  runs), subscribed to ``door/+/event`` with dedupe before the door
  reconnects, has received the last one.

``delivery_s`` is the later of the two. Target: at most 5 s for 10,000
events, with every event received. The subscriber and its readiness probe
are those of ``benchmarks.outbox_drain``.
"""

import random
from datetime import timedelta

from benchmarks.common import (
    BenchmarkError,
    Result,
    main_alone,
    rate,
)
from benchmarks.door_common import REFERENCE, build_entry
from benchmarks.outbox_drain import fill_and_drain, hub_in_child
from hublink.messages import DOOR_EVENT, AccessEvent, TapTiming

DEFAULT_COUNT = 10_000
DELIVERY_MAX_S = 5.0
SEED = 5
REASONS = (  # (granted, reason, weight)
    (True, "member", 70),
    (True, "guest_pass", 8),
    (True, "booking", 3),
    (False, "outside_schedule", 10),
    (False, "unknown_credential", 5),
    (False, "expired", 4),
)


def access_events(count: int) -> list[AccessEvent]:
    """``count`` access events of real size, a tap every 20 s or so before :data:`REFERENCE`."""
    rng = random.Random(SEED)
    weights = [weight for _, _, weight in REASONS]
    events = []
    for i in range(count):
        granted, reason = rng.choices([(g, r) for g, r, _ in REASONS], weights)[0]
        card = rng.randrange(1, 100_000)
        entry = build_entry(card, rng)
        known = reason != "unknown_credential"
        events.append(
            AccessEvent(
                ts=REFERENCE - timedelta(seconds=20 * (count - i)),
                reader_id="main",
                credential=entry.credential,
                granted=granted,
                reason=reason,
                member_id=entry.member_id if known else None,
                role=entry.role if known else None,
                card_hint=f"{card:04x}"[-4:],
                timing=TapTiming(
                    read_ms=rng.uniform(0.13, 0.3),
                    decide_ms=rng.uniform(0.02, 0.08),
                    lock_ms=rng.uniform(0.002, 0.01) if granted else None,
                ),
            )
        )
    return events


def run(port: int, count: int = DEFAULT_COUNT) -> Result:
    """Queue ``count`` access events offline, reconnect, time their delivery."""
    events = access_events(count)
    sizes = [len(DOOR_EVENT.encode(event)) for event in events]
    result: Result = {
        "benchmark": "door_outbox",
        "count": count,
        "event": "AccessEvent with credential, member, role, card_hint and timing",
        "event_bytes_mean": round(sum(sizes) / len(sizes)),
        "outbox": "synchronous full",
        "subscriber": "a Link in a separate process, dedupe on",
        "delivery_max_s": DELIVERY_MAX_S,
    }
    try:
        run = fill_and_drain(port, events, hub_in_child, "full", "bench-door-events")
    except BenchmarkError as err:
        result.update(error=str(err), meets_target=False)
        return result
    last_s = run.last_s
    received_all = run.delivered.ids == {event.id for event in events}
    delivery_s = max(run.drain_s, last_s) if last_s is not None else None
    result.update(
        enqueue_s=round(run.enqueue_s, 3),
        enqueue_rate=rate(count, run.enqueue_s),
        connect_s=round(run.connect_s, 3),
        drain_s=round(run.drain_s, 3),
        last_received_s=None if last_s is None else round(last_s, 3),
        delivery_s=None if delivery_s is None else round(delivery_s, 3),
        delivered_rate=None if delivery_s is None else rate(count, delivery_s),
        received=run.delivered.received,
        received_all=received_all,
        meets_target=received_all and delivery_s is not None and delivery_s <= DELIVERY_MAX_S,
    )
    return result


if __name__ == "__main__":
    raise SystemExit(main_alone(run, __doc__, DEFAULT_COUNT))
