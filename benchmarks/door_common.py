"""Shared by the door benchmarks: a realistic list of 100,000 cards, latencies in ms.

One door (``bench``) of a site in Europe/Stockholm, with six weekly schedules,
two years of Swedish public holidays, and seven tiers. Per 1,000 cards:

- 740 members with a tier: 400 ``flex`` (office hours), 150 ``extended``,
  100 ``evening``, 50 ``weekend``, 40 ``night`` (two ranges a day); 30 % of
  them with a membership end (``valid_until``), some of it past;
- 100 ``resident`` members (a tier admitted at any time);
- 100 guests with a host, a one-day pass (``valid_from``, ``valid_until``)
  somewhere in the week around :data:`REFERENCE`, and the ``daypass`` tier;
- 40 ``community`` members (a tier this door does not admit) with one to three
  booking or event grants in that week: they get in only with one;
- 19 suspended members;
- 1 admin.

Card ``i`` has the 7-byte UID ``04`` + ``i`` (6 bytes, big-endian); card 0 is
:data:`TAP_UID`, a resident, granted at any time. UIDs starting ``08`` are
not in the list. Everything is derived from a fixed seed, so every run builds
the same list.
"""

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from benchmarks.common import percentile
from door.controller import peek_version
from hublink.credentials import credential_hash
from hublink.messages import (
    ACL_SNAPSHOT,
    AclEntry,
    AclGrant,
    AclPolicy,
    AclSnapshot,
    ScheduleSpec,
)
from tests.helpers.door_hardware import SITE_KEY

ENTRIES = 100_000
DOOR_ID = "bench"
VERSION = 1
SEED = 20261125
REFERENCE = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
"""A Wednesday, 09:30 in Stockholm: the week around it is when the list is used."""
TAP_UID = bytes.fromhex("04A1B2C3D4E5F6")
"""Card 0: a resident member, granted at any time (the tap benchmark holds it)."""
TIMEZONE = "Europe/Stockholm"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
WEEKEND = ("sat", "sun")
SCHEDULES = (
    ScheduleSpec(id="office", weekly=dict.fromkeys(WEEKDAYS, ("07:00-19:00",))),
    ScheduleSpec(
        id="extended",
        weekly={
            **dict.fromkeys(WEEKDAYS, ("06:00-22:00",)),
            **dict.fromkeys(WEEKEND, ("08:00-20:00",)),
        },
    ),
    ScheduleSpec(id="evenings", weekly=dict.fromkeys(WEEKDAYS, ("17:00-23:00",))),
    ScheduleSpec(id="weekends", weekly=dict.fromkeys(WEEKEND, ("09:00-18:00",))),
    ScheduleSpec(
        id="night", weekly=dict.fromkeys((*WEEKDAYS, *WEEKEND), ("00:00-06:00", "22:00-24:00"))
    ),
    ScheduleSpec(id="daypass", weekly=dict.fromkeys(WEEKDAYS, ("08:00-18:00",))),
)
HOLIDAYS = tuple(
    date.fromisoformat(day)
    for day in (
        "2026-01-01", "2026-01-06", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14",
        "2026-06-06", "2026-06-19", "2026-12-24", "2026-12-25", "2026-12-26", "2026-12-31",
        "2027-01-01", "2027-01-06", "2027-03-26", "2027-03-29", "2027-05-01", "2027-05-06",
        "2027-06-06", "2027-06-25", "2027-12-24", "2027-12-25", "2027-12-26", "2027-12-31",
    )
)  # fmt: skip
POLICY = AclPolicy(
    timezone=TIMEZONE,
    schedules=SCHEDULES,
    holidays=HOLIDAYS,
    tiers={
        "resident": None,
        "flex": "office",
        "extended": "extended",
        "evening": "evenings",
        "weekend": "weekends",
        "night": "night",
        "daypass": "daypass",
    },
)
MIX = (  # (kind, per 1000)
    ("flex", 400),
    ("extended", 150),
    ("evening", 100),
    ("weekend", 50),
    ("night", 40),
    ("resident", 100),
    ("guest", 100),
    ("grants", 40),
    ("suspended", 19),
    ("admin", 1),
)
KINDS = tuple(kind for kind, per_mille in MIX for _ in range(per_mille))
WEEK_S = 7 * 24 * 3600


def uid(index: int) -> bytes:
    """The UID of card ``index`` in the list (card 0 is :data:`TAP_UID`)."""
    return TAP_UID if index == 0 else b"\x04" + index.to_bytes(6, "big")


def unknown_uid(index: int) -> bytes:
    """A UID that is not in the list."""
    return b"\x08" + index.to_bytes(6, "big")


def in_week(rng: random.Random) -> datetime:
    """A random instant in the week starting three days before :data:`REFERENCE`."""
    return REFERENCE - timedelta(days=3) + timedelta(seconds=rng.uniform(0, WEEK_S))


def build_snapshot(
    entries: int = ENTRIES, version: int = VERSION, door_id: str = DOOR_ID
) -> AclSnapshot:
    """The list of ``entries`` cards (validated, as the hub would build it)."""
    rng = random.Random(SEED)
    return AclSnapshot(
        door_id=door_id,
        version=version,
        policy=POLICY,
        entries=tuple(build_entry(i, rng) for i in range(entries)),
    )


def build_entry(index: int, rng: random.Random) -> AclEntry:
    """Card ``index``: its kind from :data:`MIX`, the rest drawn from ``rng``."""
    kind = "resident" if index == 0 else KINDS[index % len(KINDS)]
    fields: dict[str, Any] = {
        "credential": credential_hash(SITE_KEY, uid(index)),
        "member_id": f"m-{index:06d}",
    }
    if kind == "admin":
        fields["role"] = "admin"
    elif kind == "guest":
        start = in_week(rng).replace(hour=7, minute=0, second=0, microsecond=0)
        fields.update(
            member_id=f"g-{index:06d}",
            role="guest",
            tier="daypass",
            host_member_id=f"m-{rng.randrange(1, ENTRIES):06d}",
            valid_from=start,
            valid_until=start + timedelta(hours=12),
        )
    elif kind == "grants":
        fields["tier"] = "community"
        fields["grants"] = tuple(_grant(rng) for _ in range(rng.randint(1, 3)))
    elif kind == "suspended":
        fields.update(status="suspended", tier="flex")
    else:
        fields["tier"] = kind
        if kind != "resident" and rng.random() < 0.3:
            fields["valid_until"] = REFERENCE + timedelta(days=rng.uniform(-30, 335))
    return AclEntry(**fields)


def _grant(rng: random.Random) -> AclGrant:
    start = in_week(rng).replace(second=0, microsecond=0)
    return AclGrant(
        start=start,
        end=start + timedelta(minutes=rng.choice((60, 90, 120, 180))),
        reason=rng.choice(("booking", "event")),
    )


@dataclass(frozen=True)
class EncodedList:
    """The list as the hub publishes it on the snapshot topic."""

    payload: bytes
    entries: int
    version: int
    door_id: str


@functools.cache
def encoded(entries: int = ENTRIES, version: int = VERSION, door_id: str = DOOR_ID) -> EncodedList:
    """The list encoded with the snapshot topic's codec (built once per process).

    Only the bytes are kept: 100,000 live models would make every full
    garbage collection of a later benchmark walk them.
    """
    payload = ACL_SNAPSHOT.encode(build_snapshot(entries, version, door_id))
    return EncodedList(payload, entries, version, door_id)


def at_version(payload: bytes, version: int) -> bytes:
    """``payload`` (an encoded snapshot) with its top-level ``version`` set to ``version``.

    Only the bytes of the head change, so a resync of the same 100,000 cards
    at the next version costs no second encode.
    """
    current = peek_version(payload)
    if current is None:
        raise ValueError("the payload has no top-level version in its head")
    old, new = f'"version":{current},'.encode(), f'"version":{version},'.encode()
    changed = payload.replace(old, new, 1)
    if peek_version(changed) != version:
        raise ValueError(f"could not set the payload's version to {version}")
    return changed


def ms_summary(seconds: Sequence[float]) -> dict[str, float | int]:
    """Count, p50, p90, p95, p99, mean and max of latencies, in milliseconds."""
    ordered = sorted(seconds)
    summary: dict[str, float | int] = {"count": len(ordered)}
    for name, fraction in (("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99)):
        summary[f"{name}_ms"] = round(percentile(ordered, fraction) * 1e3, 4)
    summary["mean_ms"] = round(sum(ordered) / len(ordered) * 1e3, 4)
    summary["max_ms"] = round(ordered[-1] * 1e3, 4)
    return summary
