"""The hub database's schema, as migrations applied in order and recorded.

Never edit a migration that has shipped: add the next one. Names and emails that must
be unique ignoring case keep a ``*_key`` column (``str.casefold``: SQLite's
``NOCASE`` knows only A-Z, not Å/Ø/Æ). Timestamps are
UTC ISO 8601 text with microseconds (``store.now_text``), so they sort as
text. The ``counters`` table is kept by triggers: anything that changes what
a door's access list holds bumps ``access_lists``, anything that changes a
zone or room bumps ``places``, anything that changes what a kiosk's directory
holds bumps ``directory``, anything that changes an event's seats bumps
``events`` and a booking ``bookings``; the hub server watches them, so a change made by
any process (a ``hubtap`` command, the HTTP API) reaches the doors and kiosks.
"""

_ACCESS_LIST_TRIGGERS = "\n".join(
    f"CREATE TRIGGER {table}_{event.split()[0].lower()}_bumps_lists "
    f"AFTER {event} ON {table} BEGIN "
    "UPDATE counters SET value = value + 1 WHERE name = 'access_lists'; END;"
    for table, events in {
        "members": ("INSERT", "DELETE", "UPDATE OF status, tier, role, valid_from, valid_until"),
        "credentials": ("INSERT", "DELETE", "UPDATE OF hash, member_id, status"),
        "doors": ("INSERT", "DELETE", "UPDATE OF door_group, open_schedule_id, first_person_in"),
        "access_rules": ("INSERT", "DELETE", "UPDATE"),
        "schedules": ("INSERT", "DELETE", "UPDATE"),
        "holidays": ("INSERT", "DELETE", "UPDATE"),
    }.items()
    for event in events
)

_PLACES_TRIGGERS = "\n".join(
    f"CREATE TRIGGER {table}_{event.lower()}_bumps_places AFTER {event} ON {table} BEGIN "
    "UPDATE counters SET value = value + 1 WHERE name = 'places'; END;"
    for table in ("zones", "rooms")
    for event in ("INSERT", "DELETE", "UPDATE")
)

INITIAL = f"""
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value) VALUES ('access_lists', 0), ('places', 0);

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE tiers (id TEXT PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO tiers (id, name) VALUES ('member', 'Member');

CREATE TABLE members (
    id TEXT PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    email_key TEXT UNIQUE,
    organisation_id TEXT REFERENCES organisations (id),
    tier TEXT NOT NULL DEFAULT 'member' REFERENCES tiers (id),
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'inactive')),
    valid_from TEXT,
    valid_until TEXT,
    search TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX members_organisation ON members (organisation_id);
CREATE INDEX members_last_name ON members (last_name COLLATE NOCASE, first_name COLLATE NOCASE);

CREATE TABLE credentials (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL CHECK (length(hash) = 64),
    hint TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id),
    kind TEXT NOT NULL DEFAULT 'card',
    label TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    issued_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX credentials_active_hash ON credentials (hash) WHERE status = 'active';
CREATE INDEX credentials_member ON credentials (member_id);

CREATE TABLE zones (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    created_at TEXT NOT NULL
);

CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    zone_id TEXT REFERENCES zones (id),
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    hourly_rate_cents INTEGER NOT NULL DEFAULT 0 CHECK (hourly_rate_cents >= 0),
    out_of_hours_rate_cents INTEGER CHECK (out_of_hours_rate_cents >= 0),
    created_at TEXT NOT NULL
);

CREATE TABLE schedules (id TEXT PRIMARY KEY, name TEXT NOT NULL, weekly TEXT NOT NULL);
CREATE TABLE holidays (day TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '');

CREATE TABLE doors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    zone_id TEXT REFERENCES zones (id),
    room_id TEXT REFERENCES rooms (id),
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'toggle', 'zone')),
    door_group TEXT NOT NULL DEFAULT 'default',
    open_schedule_id TEXT REFERENCES schedules (id),
    first_person_in INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE access_rules (
    door_group TEXT NOT NULL,
    tier TEXT NOT NULL REFERENCES tiers (id),
    schedule_id TEXT REFERENCES schedules (id),
    PRIMARY KEY (door_group, tier)
);

CREATE TABLE door_status (
    door_id TEXT PRIMARY KEY,
    online INTEGER,
    seen_at TEXT,
    lock TEXT,
    contact TEXT,
    mode TEXT,
    acl_version INTEGER,
    last_sync TEXT,
    alarms TEXT NOT NULL DEFAULT '[]',
    state_at TEXT,
    telemetry TEXT,
    telemetry_at TEXT
);

CREATE TABLE door_lists (
    door_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    digest TEXT NOT NULL,
    published_at TEXT NOT NULL
);

CREATE TABLE access_events (
    id TEXT PRIMARY KEY,
    ts TEXT NOT NULL,
    door_id TEXT NOT NULL,
    reader_id TEXT NOT NULL,
    granted INTEGER NOT NULL,
    reason TEXT NOT NULL,
    member_id TEXT,
    credential TEXT,
    card_hint TEXT,
    role TEXT,
    read_ms REAL,
    decide_ms REAL,
    lock_ms REAL,
    received_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX access_events_ts ON access_events (ts);
CREATE INDEX access_events_member ON access_events (member_id, ts);
CREATE INDEX access_events_door ON access_events (door_id, ts);

CREATE TABLE door_log (
    id TEXT PRIMARY KEY,
    ts TEXT NOT NULL,
    door_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX door_log_door ON door_log (door_id, ts);

CREATE TABLE door_commands (
    id TEXT PRIMARY KEY,
    door_id TEXT NOT NULL,
    action TEXT NOT NULL,
    duration_s REAL,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ok INTEGER,
    reason TEXT,
    detail TEXT,
    answered_at TEXT
);
CREATE INDEX door_commands_door ON door_commands (door_id, issued_at);

CREATE TABLE presence (
    id INTEGER PRIMARY KEY,
    member_id TEXT NOT NULL,
    zone_id TEXT,
    room_id TEXT,
    started_at TEXT NOT NULL,
    visit_start TEXT NOT NULL,
    start_event TEXT,
    ended_at TEXT,
    end_reason TEXT,
    end_event TEXT
);
CREATE UNIQUE INDEX presence_open ON presence (member_id) WHERE ended_at IS NULL;
CREATE INDEX presence_member ON presence (member_id, started_at);
CREATE INDEX presence_started ON presence (started_at);

CREATE TABLE checkouts (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    ts TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('kiosk', 'operator'))
);
CREATE INDEX checkouts_member ON checkouts (member_id, ts);

CREATE TABLE enrolments (
    id INTEGER PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (id),
    door_id TEXT NOT NULL REFERENCES doors (id),
    kind TEXT NOT NULL DEFAULT 'card',
    label TEXT NOT NULL DEFAULT '',
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'waiting'
        CHECK (status IN ('waiting', 'done', 'expired', 'cancelled')),
    credential_id INTEGER REFERENCES credentials (id)
);
CREATE INDEX enrolments_waiting ON enrolments (door_id) WHERE status = 'waiting';

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX audit_log_ts ON audit_log (ts);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

{_ACCESS_LIST_TRIGGERS}
{_PLACES_TRIGGERS}
"""

DASHBOARD_ACCOUNTS = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('operator', 'host')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    last_login_at TEXT,
    disabled_at TEXT
);

CREATE TABLE login_failures (
    username_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    locked_until TEXT
);

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
"""

_DIRECTORY_TRIGGERS = "\n".join(
    f"CREATE TRIGGER {table}_{event.split()[0].lower()}_bumps_directory "
    f"AFTER {event} ON {table} BEGIN "
    "UPDATE counters SET value = value + 1 WHERE name = 'directory'; END;"
    for table, events in {
        "members": ("INSERT", "DELETE", "UPDATE OF first_name, status, valid_from, valid_until"),
        "credentials": ("INSERT", "DELETE", "UPDATE OF hash, member_id, status"),
        "kiosks": ("INSERT", "DELETE"),
    }.items()
    for event in events
)

KIOSKS = f"""
CREATE TABLE kiosks (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);

CREATE TABLE kiosk_directories (
    kiosk_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    digest TEXT NOT NULL,
    entries INTEGER NOT NULL DEFAULT 0,
    published_at TEXT NOT NULL
);

INSERT INTO counters (name, value) VALUES ('directory', 0);

{_DIRECTORY_TRIGGERS}
"""


def _bump(counter: str, table: str, events: tuple[str, ...]) -> str:
    return "\n".join(
        f"CREATE TRIGGER {table}_{event.split()[0].lower()}_bumps_{counter} "
        f"AFTER {event} ON {table} BEGIN "
        f"UPDATE counters SET value = value + 1 WHERE name = '{counter}'; END;"
        for event in events
    )


_ALL = ("INSERT", "DELETE", "UPDATE")
_EVENT_WINDOW = ("INSERT", "DELETE", "UPDATE OF starts_at, ends_at, zone_id, room_id, status")
_BOOKING_WINDOW = ("INSERT", "DELETE", "UPDATE OF starts_at, ends_at, room_id, member_id, status")
_SIGNUP_SEAT = ("INSERT", "DELETE", "UPDATE OF status, guests")
_PASS = ("INSERT", "DELETE", "UPDATE OF credential, status, valid_from, valid_until, event_id")

_COMMUNITY_TRIGGERS = "\n".join(
    (
        _bump("events", "events", _ALL),
        _bump("events", "signups", _SIGNUP_SEAT),
        _bump("events", "invitations", _ALL),
        _bump("access_lists", "events", _EVENT_WINDOW),
        _bump("access_lists", "signups", _SIGNUP_SEAT),
        _bump("access_lists", "bookings", _BOOKING_WINDOW),
        _bump("access_lists", "guest_passes", _PASS),
        _bump("bookings", "bookings", _BOOKING_WINDOW),
        _bump(
            "directory",
            "guest_passes",
            (
                "INSERT",
                "DELETE",
                "UPDATE OF credential, status, first_name, host_member_id, valid_until",
            ),
        ),
    )
)

# No reservation is longer than 7 days (events; bookings are shorter), so the search for a
# clash looks back 8 days: the index then reads a week of the room, not its whole history.
_NO_DOUBLE_BOOKING = """
CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings
WHEN NEW.status = 'booked' AND EXISTS (
    SELECT 1 FROM bookings b WHERE b.room_id = NEW.room_id AND b.status = 'booked'
    AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at
    AND b.starts_at > strftime('%Y-%m-%dT%H:%M', NEW.starts_at, '-8 days'))
BEGIN SELECT RAISE(ABORT, 'room_taken: the room is already booked then'); END;
CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF room_id, starts_at, ends_at, status
ON bookings
WHEN NEW.status = 'booked' AND EXISTS (
    SELECT 1 FROM bookings b WHERE b.room_id = NEW.room_id AND b.status = 'booked'
    AND b.id != NEW.id AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at
    AND b.starts_at > strftime('%Y-%m-%dT%H:%M', NEW.starts_at, '-8 days'))
BEGIN SELECT RAISE(ABORT, 'room_taken: the room is already booked then'); END;
"""

COMMUNITY = f"""
ALTER TABLE tiers ADD COLUMN guests_per_day INTEGER NOT NULL DEFAULT 3
    CHECK (guests_per_day BETWEEN 0 AND 100);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    host_member_id TEXT NOT NULL REFERENCES members (id),
    zone_id TEXT REFERENCES zones (id),
    room_id TEXT REFERENCES rooms (id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    visibility TEXT NOT NULL DEFAULT 'members' CHECK (visibility IN ('members', 'open')),
    max_guests INTEGER NOT NULL DEFAULT 0 CHECK (max_guests BETWEEN 0 AND 20),
    cancel_deadline_min INTEGER NOT NULL DEFAULT 0 CHECK (cancel_deadline_min >= 0),
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_starts ON events (starts_at);
CREATE INDEX events_host ON events (host_member_id, starts_at);

CREATE TABLE signups (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    member_id TEXT NOT NULL REFERENCES members (id),
    guests INTEGER NOT NULL DEFAULT 0 CHECK (guests BETWEEN 0 AND 20),
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    source TEXT NOT NULL,
    request_id TEXT UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    promoted_at TEXT,
    cancelled_at TEXT,
    attended_at TEXT
);
CREATE UNIQUE INDEX signups_live ON signups (event_id, member_id) WHERE status != 'cancelled';
CREATE INDEX signups_event ON signups (event_id, status, id);
CREATE INDEX signups_member ON signups (member_id, status);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'cancelled')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cancelled_at TEXT
);
CREATE UNIQUE INDEX invitations_live ON invitations (event_id, email_key)
    WHERE status = 'invited';

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    member_id TEXT,
    event_id TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    delivered_at TEXT,
    last_error TEXT
);
CREATE INDEX notifications_pending ON notifications (id) WHERE delivered_at IS NULL;

CREATE TABLE bookings (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms (id),
    member_id TEXT NOT NULL REFERENCES members (id),
    organisation_id TEXT REFERENCES organisations (id),
    event_id TEXT REFERENCES events (id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled')),
    office_minutes INTEGER NOT NULL DEFAULT 0 CHECK (office_minutes >= 0),
    off_hours_minutes INTEGER NOT NULL DEFAULT 0 CHECK (off_hours_minutes >= 0),
    amount_cents INTEGER NOT NULL DEFAULT 0 CHECK (amount_cents >= 0),
    source TEXT NOT NULL,
    request_id TEXT UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cancelled_at TEXT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX bookings_room ON bookings (room_id, starts_at);
CREATE INDEX bookings_starts ON bookings (starts_at);
CREATE INDEX bookings_member ON bookings (member_id, starts_at);
CREATE UNIQUE INDEX bookings_event ON bookings (event_id) WHERE status = 'booked';

CREATE TABLE guest_passes (
    id TEXT PRIMARY KEY,
    first_name TEXT NOT NULL,
    host_member_id TEXT NOT NULL REFERENCES members (id),
    event_id TEXT REFERENCES events (id),
    invitation_id INTEGER REFERENCES invitations (id),
    day TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    credential TEXT CHECK (credential IS NULL OR length(credential) = 64),
    hint TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
    source TEXT NOT NULL,
    request_id TEXT UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cancelled_at TEXT,
    CHECK (valid_until > valid_from)
);
CREATE INDEX guest_passes_host ON guest_passes (host_member_id, day);
CREATE INDEX guest_passes_valid ON guest_passes (valid_until) WHERE status = 'active';
CREATE INDEX guest_passes_credential ON guest_passes (credential) WHERE credential IS NOT NULL;

CREATE TABLE calendar_tokens (
    member_id TEXT PRIMARY KEY REFERENCES members (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

INSERT INTO counters (name, value) VALUES ('events', 0), ('bookings', 0);

{_NO_DOUBLE_BOOKING}
{_COMMUNITY_TRIGGERS}
"""

PRIVACY = """
CREATE TABLE occupancy_hourly (
    hour TEXT NOT NULL,
    zone_id TEXT NOT NULL,
    people INTEGER NOT NULL CHECK (people >= 0),
    PRIMARY KEY (hour, zone_id)
) WITHOUT ROWID;

CREATE TABLE access_hourly (
    hour TEXT NOT NULL,
    door_id TEXT NOT NULL,
    granted INTEGER NOT NULL CHECK (granted >= 0),
    denied INTEGER NOT NULL CHECK (denied >= 0),
    PRIMARY KEY (hour, door_id)
) WITHOUT ROWID;

CREATE TABLE marks (name TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE ha_discovery (
    topic TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    published_at TEXT NOT NULL
);
"""
"""Retention and member rights: anonymous hourly counts that outlive the records they
replace (``occupancy_hourly``: people per UTC hour start per zone, ``''`` the whole site;
``access_hourly``: taps per hour per door), ``marks`` (named values such as how far stays
have been folded) and the Home Assistant discovery topics the hub has published."""

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("initial schema", INITIAL),
    ("dashboard accounts", DASHBOARD_ACCOUNTS),
    ("kiosks", KIOSKS),
    ("community", COMMUNITY),
    ("privacy", PRIVACY),
)
"""``(name, sql)`` in order; a migration's version is its position, from 1."""
