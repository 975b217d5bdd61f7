"""Notifications: recorded with the change, delivered by a real program, retried with back-off."""

import json
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hub_server import members, notifications, signups
from hub_server.models import MemberChange
from hub_server.notifications import NotificationSender, backoff
from hub_server.store import Store
from tests.helpers.community_data import ACTOR, NOW, START, add_event, community

HOOK = """\
import json, pathlib, sys
note = json.load(sys.stdin)
if note.get("fail"):
    sys.stderr.write("smtp.example.org refused the mail\\n")
    sys.exit(3)
with open(sys.argv[1], "a", encoding="utf-8") as out:
    out.write(json.dumps(note, ensure_ascii=False) + "\\n")
"""


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as s:
        yield community(s)


@pytest.fixture
def hook(tmp_path: Path) -> tuple[tuple[str, ...], Path]:
    """The command of a hook script that appends each notification to a file, and the file."""
    script = tmp_path / "hook.py"
    script.write_text(HOOK)
    received = tmp_path / "received.jsonl"
    return (sys.executable, str(script), str(received)), received


def received(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def note(
    store: Store, kind: str = "test.note", member_id: str | None = "m-asa", **body: object
) -> int:
    with store.write() as db:
        return notifications.record(db, kind, member_id=member_id, event_id=None, at=NOW, **body)


def test_a_promotion_is_recorded_and_delivered_with_member_and_event(store, hook):
    command, path = hook
    members.change(store, "m-bjorn", MemberChange(email="bjorn@example.org"), ACTOR)
    event = add_event(store, capacity=1)
    signups.sign_up(store, event.id, "m-asa", actor=ACTOR, source="api", now=NOW)
    signups.sign_up(store, event.id, "m-bjorn", actor=ACTOR, source="api", now=NOW)
    signups.cancel(store, event.id, "m-asa", actor=ACTOR, now=NOW)
    [pending] = notifications.pending(store)
    sender = NotificationSender(store, command, clock=Clock(NOW))
    assert sender.deliver_due() == 1
    [sent] = received(path)
    assert sent == {
        "id": pending.id,
        "kind": "signup.promoted",
        "created_at": NOW.isoformat(timespec="microseconds"),
        "member": {
            "id": "m-bjorn",
            "first_name": "Björn",
            "last_name": "Test",
            "email": "bjorn@example.org",
        },
        "event": {
            "id": event.id,
            "title": "Forest yoga",
            "starts_at": START.isoformat(timespec="microseconds"),
            "ends_at": event.ends_at.isoformat(timespec="microseconds"),
        },
        "title": "Forest yoga",
        "starts_at": START.isoformat(timespec="microseconds"),
        "guests": 0,
    }
    assert notifications.pending(store) == []
    [done] = notifications.recent(store, limit=5)
    assert (done.delivered_at, done.attempts, done.last_error) == (NOW, 0, None)
    assert sender.deliver_due() == 0  # nothing twice
    assert len(received(path)) == 1


def test_a_failed_delivery_backs_off_and_does_not_hold_up_others(store, hook):
    command, path = hook
    failing = note(store, fail=True)
    fine = note(store, fail=False)
    clock = Clock(NOW)
    sender = NotificationSender(store, command, clock=clock)
    assert sender.deliver_due() == 2
    assert [n["id"] for n in received(path)] == [fine]
    [waiting] = notifications.pending(store)
    assert (waiting.id, waiting.attempts) == (failing, 1)
    assert waiting.last_error == "exit status 3: smtp.example.org refused the mail"
    assert waiting.next_attempt_at == NOW + timedelta(seconds=30)
    clock.now = NOW + timedelta(seconds=29)
    assert sender.deliver_due() == 0  # still backing off
    clock.now = NOW + timedelta(seconds=30)
    assert sender.deliver_due() == 1
    [waiting] = notifications.pending(store)
    assert waiting.attempts == 2
    assert waiting.next_attempt_at == clock.now + timedelta(seconds=60)
    assert (sender.stats.delivered, sender.stats.failed) == (1, 2)


def test_the_back_off_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600,
    ]  # fmt: skip
    assert backoff(50) == timedelta(hours=1)


def test_a_hook_that_hangs_or_cannot_run_is_an_error_not_a_crash(store, tmp_path):
    note(store)
    hang = tmp_path / "hang.py"
    hang.write_text("import time\ntime.sleep(30)\n")
    sender = NotificationSender(store, (sys.executable, str(hang)), timeout_s=0.3, clock=Clock(NOW))
    sender.deliver_due()
    assert notifications.pending(store)[0].last_error.endswith("did not finish within 0.3 s")
    missing = NotificationSender(
        store, (str(tmp_path / "no-such-hook"),), clock=Clock(NOW + timedelta(hours=1))
    )
    missing.deliver_due()
    [waiting] = notifications.pending(store)
    assert waiting.attempts == 2
    assert waiting.last_error.startswith(f"cannot run {tmp_path / 'no-such-hook'}")


def test_without_a_command_nothing_is_sent_and_notifications_stay_visible(store):
    note(store)
    sender = NotificationSender(store, (), poll_interval_s=0.01, clock=Clock(NOW)).start()
    try:
        assert sender.deliver_due() == 0
        time.sleep(0.1)
    finally:
        sender.stop()
    [waiting] = notifications.pending(store)
    assert (waiting.attempts, waiting.delivered_at, waiting.last_error) == (0, None, None)


def test_the_thread_is_woken_by_a_commit_and_stops_cleanly(store, hook):
    command, path = hook
    sender = NotificationSender(store, command, poll_interval_s=60).start()
    try:
        note(store, greeting="hej")  # the commit wakes the sender long before its poll
        deadline = time.monotonic() + 10
        while not received(path) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [n["greeting"] for n in received(path)] == ["hej"]
    finally:
        sender.stop()
    assert sender._thread is None
    sender.stop()  # twice is fine


def test_the_thread_survives_a_failing_pass(store, hook, monkeypatch):
    command, path = hook
    sender = NotificationSender(store, command, poll_interval_s=0.02)
    calls = []
    real = sender.deliver_due

    def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return real()

    monkeypatch.setattr(sender, "deliver_due", flaky)
    note(store)
    sender.start()
    try:
        deadline = time.monotonic() + 10
        while not received(path) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sender.stop()
    assert len(received(path)) == 1
    assert len(calls) >= 2


def test_a_notification_without_member_or_event_still_goes_out(store, hook):
    command, path = hook
    note(store, member_id=None, reason="test")
    NotificationSender(store, command, clock=Clock(NOW)).deliver_due()
    [sent] = received(path)
    assert (sent["member"], sent["event"], sent["reason"]) == (None, None, "test")
