"""Shared by the hub benchmarks: a realistic hub store, and one with 1,000,000 access events.

The site (``Europe/Stockholm``, the hub's default presence rules: closing at
23:00, stays of at most 14 h) has four zones and, per :func:`populate`,
``members`` members with cards and the doors asked for. Per 100 members:
50 ``flex`` (office hours where rules apply), 20 ``resident`` (any time), 15
``evening``, 10 ``community`` and 5 of the default ``member`` tier; one in
100 suspended, one in 100 deactivated (``inactive``: off every list), one in
1,000 an admin; one in five with a membership end (``valid_until``), some of
it past. Every member has card 0; one in 20 a second card (card 1); one in 50
an older card that was revoked (card 2). Door groups with access rules
(:data:`ACCESS_RULES`) admit some tiers within schedules; the others admit
every member at any time, so a site has two distinct sets of entries.

Card ``n`` of member ``i`` has the 7-byte UID ``04``, ``n``, ``i`` (5 bytes,
big-endian), hashed with the test site key as a door hashes it. Everything
is derived from fixed seeds, so every build is the same.

:func:`events_store` adds 1,000,000 access events to such a store with 10
doors (:data:`EVENT_DOORS`): visits over the 180 days before
:data:`HISTORY_END` (an entrance, a few zone readers, usually an exit),
about 8 % denied taps, and the presence sessions the hub would have built
from them (``presence.rebuild`` per member, the hub's own code). Building it
takes about 40 s, so the file is kept under ``build/bench/`` keyed by its
size, the schema's version and :data:`GENERATION`, and each benchmark works
on a copy of it.
"""

import itertools
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from benchmarks.common import BenchmarkError
from hub_server import cards, doors, members, places, presence
from hub_server.config import HubConfig
from hub_server.models import DoorIn, MemberIn, ZoneIn, build
from hub_server.schema import MIGRATIONS
from hub_server.store import Store, now_text
from hublink.credentials import card_hint, credential_hash
from tests.helpers.door_hardware import SITE_KEY, SITE_KEY_HEX

CACHE = Path(__file__).resolve().parent.parent / "build" / "bench"
GENERATION = 1
"""Bump when what :func:`events_store` builds changes: the cached file is then rebuilt."""
MEMBERS = 10_000
EVENTS = 1_000_000
HISTORY_DAYS = 180
HISTORY_END = datetime(2026, 11, 20, tzinfo=UTC)
"""The history's last instant; every stay in it has ended by then (closing time)."""
TIMEZONE = "Europe/Stockholm"
SEED = 20261120
ACTOR = "bench"

ZONES = (  # id, name, capacity
    ("ground", "Ground floor", 600),
    ("upper", "Upper floor", 300),
    ("studio", "Studio", 60),
    ("lab", "Lab", 40),
)
TIERS = ("flex", "resident", "evening", "community")
TIER_MIX = (  # per 100 members
    ("flex", 50),
    ("resident", 20),
    ("evening", 15),
    ("community", 10),
    ("member", 5),
)
TIER_OF = tuple(tier for tier, per_100 in TIER_MIX for _ in range(per_100))
SCHEDULES = {
    "office": {day: ["07:00-19:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "evenings": {day: ["17:00-23:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "weekends": {day: ["09:00-18:00"] for day in ("sat", "sun")},
}
ACCESS_RULES = {  # door group -> tier -> schedule id (None: any time)
    "studio": {"resident": None, "flex": "office", "evening": "evenings"},
    "lab": {"resident": None, "flex": "office"},
}
HOLIDAYS = ("2026-12-24", "2026-12-25", "2026-12-26", "2026-12-31", "2027-01-01")


@dataclass(frozen=True)
class DoorSpec:
    """A door of the benchmark site."""

    id: str
    direction: str
    zone_id: str | None
    group: str = "main"


EVENT_DOORS = (
    DoorSpec("front", "in", "ground"),
    DoorSpec("side", "in", "ground"),
    DoorSpec("garage", "in", "ground", "garage"),
    DoorSpec("front-exit", "out", None),
    DoorSpec("side-exit", "out", None),
    DoorSpec("upper", "zone", "upper"),
    DoorSpec("upper-east", "zone", "upper"),
    DoorSpec("studio", "zone", "studio", "studio"),
    DoorSpec("lab", "zone", "lab", "lab"),
    DoorSpec("bike-shed", "toggle", "ground", "garage"),
)
"""The 10 doors of the site with 1,000,000 events: entrances, exits, zone readers."""
ENTRANCES = tuple(d for d in EVENT_DOORS if d.direction in ("in", "toggle"))
EXITS = tuple(d for d in EVENT_DOORS if d.direction == "out")
ZONE_READERS = tuple(d for d in EVENT_DOORS if d.direction == "zone")


def many_doors(count: int) -> tuple[DoorSpec, ...]:
    """``count`` doors in four groups (two with access rules), in every direction."""
    groups = ("main", "studio", "lab", "garage")
    directions = ("in", "zone", "zone", "out", "toggle")
    zone_of = {"main": "ground", "studio": "studio", "lab": "lab", "garage": "ground"}
    specs = []
    for i in range(count):
        group, direction = groups[i % len(groups)], directions[i % len(directions)]
        zone = None if direction == "out" else zone_of[group]
        specs.append(DoorSpec(f"door-{i:02d}", direction, zone, group))
    return tuple(specs)


def card_uid(member: int, card: int = 0) -> bytes:
    """The UID of card ``card`` of member ``member``."""
    return bytes((0x04, card)) + member.to_bytes(5, "big")


def member_id(member: int) -> str:
    """The id of member ``member``."""
    return f"m-{member:05d}"


def credential(member: int, card: int = 0) -> str:
    """The keyed hash of a card, as a door computes it and the hub stores it."""
    return credential_hash(SITE_KEY, card_uid(member, card))


def member_kind(member: int) -> tuple[str, str, str]:
    """``(tier, role, status)`` of member ``member``."""
    tier = TIER_OF[member % len(TIER_OF)]
    role = "admin" if member % 1000 == 999 else "member"
    status = "active"
    if member % 100 == 37:
        status = "suspended"
    elif member % 100 == 73:
        status = "inactive"
    return tier, role, status


def usable(member: int) -> bool:
    """True if the member's card 0 is granted somewhere (active, not an admin)."""
    _, role, status = member_kind(member)
    return status == "active" and role == "member"


def granted_everywhere(member: int) -> bool:
    """True if the member's card 0 is granted at every door at any time and listed on every
    kiosk: an active ``resident`` without a membership end."""
    return member_kind(member) == ("resident", "member", "active") and member % 5 != 2


def hub_config(
    workdir: Path, port: int, site: str, client_id: str, **sections: dict[str, Any]
) -> HubConfig:
    """A hub on loopback for site ``site``, with the defaults a site would run
    (``sections`` replaces whole sections, e.g. ``lists={"poll_interval_s": 0.1}``)."""
    return HubConfig.model_validate(
        {
            "data_dir": str(workdir),
            "log_level": "WARNING",
            "site": {"id": site, "key": SITE_KEY_HEX},
            "mqtt": {
                "host": "127.0.0.1",
                "port": port,
                "client_id": client_id,
                "reconnect_min_s": 0.1,
                "reconnect_max_s": 0.5,
            },
            "hub": {"timezone": TIMEZONE},
            "http": {"enabled": False},
            **sections,
        }
    )


def populate(store: Store, member_count: int, door_specs: Sequence[DoorSpec]) -> None:
    """Zones, tiers, schedules, access rules, doors, members and their cards (see above)."""
    rng = random.Random(SEED)
    for zone_id, name, capacity in ZONES:
        places.add_zone(store, build(ZoneIn, id=zone_id, name=name, capacity=capacity), ACTOR)
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO tiers (id, name) VALUES (?, ?)", [(t, t.title()) for t in TIERS]
        )
        db.conn.executemany(
            "INSERT INTO schedules (id, name, weekly) VALUES (?, ?, ?)",
            [(s, s.title(), json.dumps(weekly)) for s, weekly in SCHEDULES.items()],
        )
        db.conn.executemany(
            "INSERT INTO holidays (day, name) VALUES (?, ?)", [(d, "holiday") for d in HOLIDAYS]
        )
        db.conn.executemany(
            "INSERT INTO access_rules (door_group, tier, schedule_id) VALUES (?, ?, ?)",
            [(g, t, s) for g, rules in ACCESS_RULES.items() for t, s in rules.items()],
        )
    for spec in door_specs:
        door = build(
            DoorIn,
            id=spec.id,
            name=f"Door {spec.id}",
            direction=spec.direction,
            zone_id=spec.zone_id,
            group=spec.group,
        )
        doors.add(store, door, ACTOR)
    with store.write() as db:  # as the CSV import does: one transaction
        for i in range(member_count):
            tier, role, status = member_kind(i)
            until = None
            if i % 5 == 2:
                until = HISTORY_END + timedelta(days=rng.uniform(-20, 400))
            member = build(
                MemberIn,
                id=member_id(i),
                first_name=f"First{i}",
                last_name=f"Last{i}",
                email=f"member{i}@example.org",
                tier=tier,
                role=role,
                status=status,
                valid_until=until,
            )
            members.insert(db, member)
            held = [0] + ([1] if i % 20 == 3 else []) + ([2] if i % 50 == 11 else [])
            for card in held:
                uid = card_uid(i, card)
                card_id = cards.attach(db, member_id(i), credential(i, card), card_hint(uid) or "")
                if card == 2:
                    db.execute(
                        "UPDATE credentials SET status = 'revoked', revoked_at = ? WHERE id = ?",
                        (now_text(), card_id),
                    )


# --- the store with 1,000,000 access events ----------------------------------


def events_store(
    member_count: int = MEMBERS, events: int = EVENTS
) -> tuple[Path, dict[str, float | int | bool]]:
    """The cached store with ``events`` access events (built if missing); its build figures."""
    path = CACHE / f"hub-events-m{member_count}-e{events}-s{len(MIGRATIONS)}-g{GENERATION}.sqlite3"
    if path.exists():
        return path, {"cached": True}
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".partial-{os.getpid()}")
    _remove(partial)
    started = time.perf_counter()
    with Store.open(partial) as store:
        populate(store, member_count, EVENT_DOORS)
        populated = time.perf_counter()
        written = _write_history(store, member_count, events)
        inserted = time.perf_counter()
        sessions = _build_presence(store, member_count)
        rebuilt = time.perf_counter()
    with closing(sqlite3.connect(partial)) as conn:  # everything into the one file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if Path(f"{partial}-wal").exists():
        raise BenchmarkError(f"{partial} kept its write-ahead log: not caching it")
    os.replace(partial, path)
    figures = {
        "cached": False,
        "populate_s": round(populated - started, 1),
        "events_s": round(inserted - populated, 1),
        "events": written,
        "presence_s": round(rebuilt - inserted, 1),
        "sessions": sessions,
        "bytes": path.stat().st_size,
    }
    return path, figures


def copy_events_store(
    folder: Path, member_count: int = MEMBERS, events: int = EVENTS
) -> tuple[Path, dict[str, float | int | bool]]:
    """A fresh copy of the cached store in ``folder`` (named as a hub names it)."""
    source, figures = events_store(member_count, events)
    target = folder / "hub.sqlite3"
    started = time.perf_counter()
    shutil.copyfile(source, target)
    figures = {**figures, "copy_s": round(time.perf_counter() - started, 2)}
    return target, figures


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    _remove_sidecars(path)


def _remove_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def uuid7_at(when: datetime, rng: random.Random) -> str:
    """A UUIDv7 made at ``when``, as a door's ``new_id`` would have made it."""
    ms = int(when.timestamp() * 1000)
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return str(uuid.UUID(int=value))


DENIALS = (  # reason, has a member, weight
    ("outside_schedule", True, 40),
    ("unknown_credential", False, 30),
    ("expired", True, 20),
    ("credential_suspended", True, 10),
)


def _history(member_count: int, events: int) -> Iterator[tuple[object, ...]]:
    """``events`` rows of ``access_events`` in time order (see the module's docstring)."""
    rng = random.Random(SEED + 1)
    local = ZoneInfo(TIMEZONE)
    start_day = (HISTORY_END - timedelta(days=HISTORY_DAYS)).astimezone(local).date()
    regulars = [i for i in range(member_count) if usable(i)]
    weights = itertools.accumulate(1.0 / (1 + rank % 50) for rank in range(len(regulars)))
    cumulative = list(weights)  # some come every day, most now and then
    hashes = [credential(i) for i in range(member_count)]
    per_day = events // HISTORY_DAYS
    denial_weights = [w for _, _, w in DENIALS]
    made = 0
    for day in range(HISTORY_DAYS):
        date = start_day + timedelta(days=day)
        quota = per_day if day < HISTORY_DAYS - 1 else events - made
        taps: list[tuple[datetime, DoorSpec, int | None, bool, str]] = []
        while len(taps) < quota:
            member = rng.choices(regulars, cum_weights=cumulative)[0]
            arrive = datetime.combine(date, datetime.min.time(), local) + timedelta(
                hours=rng.uniform(7, 11)
            )
            at = arrive
            taps.append((at, rng.choice(ENTRANCES), member, True, "member"))
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                at += timedelta(minutes=rng.uniform(20, 150))
                taps.append((at, rng.choice(ZONE_READERS), member, True, "member"))
            if rng.random() < 0.8:  # the rest are checked out at closing time
                at += timedelta(hours=rng.uniform(0.5, 6))
                taps.append((at, rng.choice(EXITS), member, True, "member"))
            if rng.random() < 0.45:
                reason, known, _ = rng.choices(DENIALS, denial_weights)[0]
                when = arrive + timedelta(minutes=rng.uniform(-30, 600))
                who = rng.randrange(member_count) if known else None
                taps.append((when, rng.choice(EVENT_DOORS), who, False, reason))
        taps = sorted(taps[:quota], key=lambda tap: tap[0])
        for at, door, who, granted, reason in taps:
            ts = at.astimezone(UTC)
            cred = hashes[who] if who is not None else _unknown_credential(rng)
            yield (
                uuid7_at(ts, rng), now_text(ts), door.id, "main", int(granted), reason,
                None if who is None else member_id(who), cred, cred[-4:], None if who is None
                else "member", round(rng.uniform(0.13, 0.3), 3), round(rng.uniform(0.02, 0.08), 3),
                round(rng.uniform(0.002, 0.01), 4) if granted else None,
                now_text(ts + timedelta(milliseconds=rng.uniform(3, 40))),
            )  # fmt: skip
        made += len(taps)


def _unknown_credential(rng: random.Random) -> str:
    return credential_hash(SITE_KEY, b"\x08" + rng.getrandbits(48).to_bytes(6, "big"))


HISTORY_BATCH = 50_000


def _write_history(store: Store, member_count: int, events: int) -> int:
    rows = _history(member_count, events)
    written = 0
    while True:
        batch = [row for _, row in zip(range(HISTORY_BATCH), rows, strict=False)]
        if not batch:
            return written
        with store.write() as db:
            db.conn.executemany(
                "INSERT INTO access_events (id, ts, door_id, reader_id, granted, reason,"
                " member_id, credential, card_hint, role, read_ms, decide_ms, lock_ms,"
                " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
        written += len(batch)


def _build_presence(store: Store, member_count: int) -> int:
    """Sessions as the hub's ingest would have left them (its own ``presence.rebuild``)."""
    rules = presence.rules_from(hub_config(Path("."), 1883, "bench", "bench-build"))
    since = HISTORY_END - timedelta(days=HISTORY_DAYS + 1)
    with store.write() as db:
        for i in range(member_count):
            presence.rebuild(db, member_id(i), since, rules, HISTORY_END)
    row = store.query_one("SELECT count(*) FROM presence")
    return int(row[0]) if row else 0


# --- helper processes --------------------------------------------------------

T = TypeVar("T")
STOP = "stop"
JOIN_TIMEOUT_S = 10.0


class Child:
    """A spawned helper process (doors, a subscriber), driven over a pipe."""

    def __init__(self, name: str, conn: Connection, process: BaseProcess) -> None:
        self.name = name
        self.conn = conn
        self.process = process

    def send(self, what: object) -> None:
        """Tell the process something."""
        self.conn.send(what)

    def receive(self, timeout: float, kind: type[T]) -> T:
        """Its next reply, which must be a ``kind``; a BenchmarkError it sent is raised."""
        if not wait([self.conn, self.process.sentinel], timeout):
            raise BenchmarkError(f"{self.name} did not answer within {timeout:g} s")
        if not self.conn.poll():
            self.process.join(JOIN_TIMEOUT_S)  # it has exited: this only collects the code
            raise BenchmarkError(f"{self.name} exited with code {self.process.exitcode}")
        reply = self.conn.recv()
        if isinstance(reply, BenchmarkError):
            raise reply
        if not isinstance(reply, kind):
            raise BenchmarkError(f"{self.name} sent {reply!r}")
        return reply


@contextmanager
def child_process(name: str, target: Callable[..., None], *args: Any) -> Iterator[Child]:
    """Run ``target(conn, *args)`` in a spawned process; told :data:`STOP` when done."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=target, args=(theirs, *args), daemon=True)
    process.start()
    try:
        yield Child(name, ours, process)
    finally:
        if process.is_alive():
            ours.send(STOP)
        process.join(JOIN_TIMEOUT_S)
        if process.is_alive():
            process.terminate()
            process.join(JOIN_TIMEOUT_S)
