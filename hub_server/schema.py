"""The hub database's schema, as migrations applied in order and recorded.

Never edit a migration that has shipped: add the next one. Names and emails that must
be unique ignoring case keep a ``*_key`` column (``str.casefold``: SQLite's
``NOCASE`` knows only A-Z, not Å/Ø/Æ). Timestamps are
UTC ISO 8601 text with microseconds (``store.now_text``), so they sort as
text. The ``counters`` table is kept by triggers: anything that changes what
a door's access list holds bumps ``access_lists``, anything that changes a
zone or room bumps ``places``, anything that changes what a kiosk's directory
holds bumps ``directory``; the hub server watches them, so a change made by
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

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("initial schema", INITIAL),
    ("dashboard accounts", DASHBOARD_ACCOUNTS),
    ("kiosks", KIOSKS),
)
"""``(name, sql)`` in order; a migration's version is its position, from 1."""
