import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hublink import messages as m
from hublink.errors import MessageError
from hublink.topics import SPECS

HASH = "ab" * 32
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)

EXAMPLES: list[m.Message] = [
    m.Availability(status="online"),
    m.DoorState(lock="locked", contact="closed", mode="normal", acl_version=7, last_sync=NOW),
    m.DoorTelemetry(
        uptime_s=3600, taps=12, tap_p50_ms=1.2, tap_p95_ms=3.4,
        reader=m.ReaderHealth(reader_id="front-in", open=True, errors=0),
        outbox_depth=0, acl_entries=250,
    ),
    m.AccessEvent(
        reader_id="front-in", credential=HASH, granted=True, reason="member", member_id="m42",
        role="member", card_hint="04a1",
        timing=m.TapTiming(read_ms=0.2, decide_ms=0.05, lock_ms=0.01),
    ),
    m.AlarmEvent(alarm="forced_open", active=True, detail="contact opened while locked"),
    m.ModeEvent(mode="lockdown", previous="normal", cause="command", detail="operator:åsa"),
    m.ExitEvent(unlocked_s=5.0),
    m.DoorCommand(action="unlock", duration_s=5, expires_at=NOW, issued_by="operator:åsa"),
    m.CommandResult(command_id=m.new_id(), ok=True, reason="done"),
    m.AclSnapshot(
        door_id="front", version=3,
        policy=m.AclPolicy(
            timezone="Europe/Stockholm",
            schedules=(m.ScheduleSpec(id="office", weekly={"mon": ("08:00-18:00",)}),),
            tiers={"full": None, "day": "office"}, open_schedule="office",
        ),
        entries=(
            m.AclEntry(credential=HASH, member_id="m42", tier="day"),
            m.AclEntry(
                credential="cd" * 32, member_id="g7", role="guest", host_member_id="m42",
                valid_until=NOW, grants=(m.AclGrant(start=NOW, end=NOW + timedelta(hours=1),
                reason="event"),),
            ),
        ),
    ),
    m.AclDelta(door_id="front", from_version=3, to_version=4, removes=(HASH,)),
    m.KioskDirectory(
        kiosk_id="k1", version=1,
        entries=(m.DirectoryEntry(credential=HASH, member_id="m42", first_name="Åsa"),),
    ),
    m.KioskRequest(action="signup", credential=HASH, params={"event_id": "e1", "guests": 2}),
    m.KioskResponse(request_id=m.new_id(), ok=False, reason="event_full", data={"waitlist": 3}),
    m.Occupancy(
        site=m.Fill(count=12, capacity=80, level="green"),
        zones=(
            m.ZoneFill(zone_id="glade", name="Forest glade", count=4, capacity=10, level="amber"),
        ),
    ),
    m.UpcomingEvents(events=(m.UpcomingEvent(
        event_id="e1", title="Storytelling at the campfire", starts_at=NOW,
        ends_at=NOW + timedelta(hours=1), capacity=12, taken=5,
    ),)),
]  # fmt: skip


def codec_for(message: m.Message) -> m.Codec:
    return next(spec.codec for spec in SPECS if type(message) in spec.codec.models)


def test_every_model_on_the_bus_has_an_example():
    carried = {model for spec in SPECS for model in spec.codec.models}
    assert carried == {type(e) for e in EXAMPLES}


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip(message):
    codec = codec_for(message)
    data = codec.encode(message)
    assert codec.decode(data) == message
    raw = json.loads(data)
    assert raw["v"] == 1
    assert raw["id"] == message.id
    assert raw["ts"].endswith("Z")


def test_envelope_defaults_are_fresh_and_utc():
    a, b = m.Availability(status="online"), m.Availability(status="online")
    assert a.id != b.id
    assert a.ts.tzinfo == UTC


def test_timestamps_are_converted_to_utc():
    oslo = timezone(timedelta(hours=1))
    msg = m.Availability(status="online", ts=datetime(2026, 1, 1, 9, 0, tzinfo=oslo))
    assert msg.ts == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert msg.ts.utcoffset() == timedelta(0)


def decode_error(codec: m.Codec, data: bytes) -> str:
    with pytest.raises(MessageError) as caught:
        codec.decode(data)
    return str(caught.value)


def envelope(**fields: object) -> bytes:
    base: dict[str, object] = {"v": 1, "id": m.new_id(), "ts": "2026-11-25T08:30:00Z"}
    base.update(fields)
    return json.dumps(base).encode()


def test_bad_bytes_are_named():
    assert "not UTF-8" in decode_error(m.AVAILABILITY, b"\xff\xfe{")
    assert "not JSON" in decode_error(m.AVAILABILITY, b"{status: online")
    assert "expected a JSON object, got list" in decode_error(m.AVAILABILITY, b"[1, 2]")
    assert "not JSON" in decode_error(m.AVAILABILITY, b"")
    assert "nested too deeply" in decode_error(m.AVAILABILITY, b"[" * 60_000)


def test_version_problems_are_named():
    assert "missing the schema version field 'v'" in decode_error(
        m.AVAILABILITY, json.dumps({"status": "online"}).encode()
    )
    assert "'v' must be an integer" in decode_error(
        m.AVAILABILITY, envelope(v="1", status="online")
    )
    assert "'v' must be an integer" in decode_error(
        m.AVAILABILITY, envelope(v=True, status="online")
    )
    error = decode_error(m.AVAILABILITY, envelope(v=2, status="online"))
    assert "unsupported schema version 2 (this build reads [1])" in error


def test_wrong_types_name_the_field():
    error = decode_error(m.DOOR_STATE, envelope(lock="ajar", acl_version="seven"))
    assert error.startswith("door state: ")
    assert "field 'lock'" in error
    assert "field 'acl_version'" in error


def test_missing_fields_and_bad_envelope_are_named():
    assert "field 'status': Field required" in decode_error(m.AVAILABILITY, envelope())
    for field in ("id", "ts"):  # a default would defeat dedupe and ordering by id
        payload = {"v": 1, "id": m.new_id(), "ts": "2026-11-25T08:30:00Z", "status": "online"}
        del payload[field]
        error = decode_error(m.AVAILABILITY, json.dumps(payload).encode())
        assert f"missing the envelope field '{field}'" in error
    assert "field 'id'" in decode_error(m.AVAILABILITY, envelope(id="not-a-uuid", status="online"))
    naive = decode_error(m.AVAILABILITY, envelope(ts="2026-11-25T08:30:00", status="online"))
    assert "field 'ts'" in naive
    assert "timezone" in naive


def test_oversized_payloads_are_refused_before_parsing():
    huge = b'{"v": 1, "status": "online", "pad": "' + b"x" * (70 * 1024) + b'"}'
    assert "over the limit of 65536" in decode_error(m.AVAILABILITY, huge)
    # parsing first would report "nested too deeply" for this one
    assert "over the limit of 65536" in decode_error(m.AVAILABILITY, b"[" * 70_000)


def test_oversized_messages_are_refused_on_encode_too():
    entries = tuple(m.AclEntry(credential=HASH, member_id=f"m{i}") for i in range(20_000))
    delta = m.AclDelta(door_id="d", from_version=1, to_version=2, upserts=entries)
    with pytest.raises(MessageError, match="over the limit"):
        m.ACL_DELTA.encode(delta)


def test_topics_with_several_models_pick_by_kind():
    alarm = m.DOOR_EVENT.decode(envelope(kind="alarm", alarm="tamper", active=True))
    assert isinstance(alarm, m.AlarmEvent)
    error = decode_error(m.DOOR_EVENT, envelope(kind="party"))
    assert "field 'kind' must be 'access' or 'alarm' or 'exit' or 'mode', got 'party'" in error


def test_codec_refuses_models_it_does_not_carry():
    with pytest.raises(MessageError, match="cannot carry a DoorState"):
        m.AVAILABILITY.encode(EXAMPLES[1])  # type: ignore[arg-type]


def test_unknown_fields_are_ignored_for_rolling_upgrades():
    msg = m.AVAILABILITY.decode(envelope(status="online", battery=87))
    assert msg.status == "online"


def test_credential_hashes_must_look_like_keyed_hashes():
    error = decode_error(m.DOOR_EVENT, envelope(
        kind="access", reader_id="r", credential="04A1B2C3D4E5F6", granted=True, reason="granted",
    ))  # fmt: skip
    assert "field 'credential'" in error


def test_delta_versions_must_move_forward():
    error = decode_error(m.ACL_DELTA, envelope(door_id="d", from_version=4, to_version=4))
    assert "to_version must be greater than from_version" in error


def test_public_models_carry_first_names_at_most():
    public = [m.Occupancy, m.UpcomingEvents, m.KioskDirectory, m.Fill, m.ZoneFill, m.RoomFill,
              m.UpcomingEvent, m.DirectoryEntry]  # fmt: skip
    forbidden = {"last_name", "surname", "email", "organisation", "organization", "full_name"}
    for model in public:
        assert not forbidden & set(model.model_fields), model.__name__


def test_commands_know_when_they_are_too_late():
    command = m.DoorCommand(action="unlock", expires_at=NOW, issued_by="hub")
    assert not command.expired(NOW - timedelta(seconds=1))
    assert command.expired(NOW)


@settings(max_examples=300)
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_decoding_arbitrary_bytes_raises_only_message_error(data):
    for spec in SPECS:
        with contextlib.suppress(MessageError):
            spec.codec.decode(data)


@given(
    status=st.sampled_from(["online", "offline"]),
    extra=st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10), max_size=5),
)
def test_unknown_keys_never_stop_a_valid_message_decoding(status, extra):
    envelope_keys = {"v", "id", "ts", "status"}
    extra = {k: v for k, v in extra.items() if k not in envelope_keys}
    payload = {"v": 1, "id": m.new_id(), "ts": "2026-11-25T08:30:00+01:00", **extra}
    decoded = m.AVAILABILITY.decode(json.dumps({**payload, "status": status}).encode())
    assert decoded.status == status
    assert decoded.id == payload["id"]


def test_a_long_list_decodes_in_parts_and_validates_in_batches():
    entries = [m.AclEntry(credential=f"{i:064x}", member_id=f"m{i}") for i in range(4500)]
    data = m.ACL_SNAPSHOT.encode(m.AclSnapshot(door_id="front", version=3, entries=entries))
    head, raw = m.ACL_SNAPSHOT.decode_in_parts(data, "entries")
    assert (head.version, head.entries, len(raw)) == (3, (), 4500)
    batches = m.validate_batches("snapshot", "entries", m.AclEntry, raw, size=2000)
    first = next(batches)
    assert len(first) == 2000
    assert raw[:2000] == [None] * 2000  # validated items are let go
    assert raw[2000] is not None
    assert [e for batch in [first, *batches] for e in batch] == entries


def test_a_bad_item_deep_in_a_long_list_is_named_by_its_index():
    raw = [{"credential": f"{i:064x}", "member_id": f"m{i}"} for i in range(3000)]
    raw[2345]["credential"] = "not a hash"
    with pytest.raises(MessageError, match=r"snapshot: field 'entries\.2345\.credential'"):
        list(m.validate_batches("snapshot", "entries", m.AclEntry, raw, size=1000))


def test_decoding_in_parts_checks_the_rest_as_decode_does():
    with pytest.raises(MessageError, match="field 'entries' must be a list"):
        m.ACL_SNAPSHOT.decode_in_parts(envelope(door_id="front", version=1, entries=5), "entries")
    with pytest.raises(MessageError, match="field 'version'"):
        m.ACL_SNAPSHOT.decode_in_parts(envelope(door_id="front", version=-1), "entries")
    with pytest.raises(MessageError, match="not JSON"):
        m.ACL_SNAPSHOT.decode_in_parts(b"{", "entries")
