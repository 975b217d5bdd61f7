"""What a door remembers across restarts, in a small file written atomically."""

import json

import pytest

from door.errors import DoorError
from door.saved_state import SavedState


def test_values_survive_a_restart(tmp_path):
    path = tmp_path / "door-state.json"
    SavedState(path).put("mode", {"override": {"mode": "lockdown"}})
    again = SavedState(path)
    assert again.get("mode") == {"override": {"mode": "lockdown"}}
    assert again.get("missing", 5) == 5
    again.put("last_sync", "2026-11-25T08:30:00+00:00")
    assert json.loads(path.read_text()) == {
        "mode": {"override": {"mode": "lockdown"}},
        "last_sync": "2026-11-25T08:30:00+00:00",
    }


@pytest.mark.parametrize("content", ["{torn", "[1, 2]", ""])
def test_an_unreadable_file_is_logged_and_the_door_starts_afresh(tmp_path, caplog, content):
    path = tmp_path / "door-state.json"
    path.write_text(content)
    state = SavedState(path)
    assert state.get("mode") is None
    state.put("mode", None)
    assert json.loads(path.read_text()) == {"mode": None}


def test_a_disk_that_refuses_is_a_door_error_and_the_old_file_stays(tmp_path):
    path = tmp_path / "door-state.json"
    state = SavedState(path)
    state.put("a", 1)
    (tmp_path / "door-state.json.tmp").mkdir()  # the temp file cannot be written
    with pytest.raises(DoorError, match="cannot save the door's state"):
        state.put("a", 2)
    assert json.loads(path.read_text()) == {"a": 1}
    assert state.get("a") == 1
