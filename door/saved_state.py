"""The few things a door remembers across restarts: its mode and its last sync.

Kept in a small JSON file of their own, replaced atomically, so saving them
never waits behind a long access-list apply in the replica's database.
"""

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from door.errors import DoorError

log = logging.getLogger(__name__)


class SavedState:
    """A JSON object on disk; :meth:`put` writes it through (temp file, fsync, rename)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}
        try:
            self._values = json.loads(self.path.read_text())
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as err:  # a torn or foreign file: start afresh
            log.error("ignoring unreadable saved state %s: %s", self.path, err)
        if not isinstance(self._values, dict):
            self._values = {}

    def get(self, key: str, default: Any = None) -> Any:
        """The saved value of ``key``, or ``default``."""
        with self._lock:
            return self._values.get(key, default)

    def put(self, key: str, value: Any) -> None:
        """Save ``value`` (JSON-able) under ``key``; :class:`DoorError` if the disk refuses."""
        with self._lock:
            values = {**self._values, key: value}
            temp = self.path.with_name(self.path.name + ".tmp")
            try:
                with temp.open("w") as file:
                    json.dump(values, file)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temp, self.path)
            except OSError as err:
                raise DoorError(f"cannot save the door's state to {self.path}: {err}") from err
            self._values = values
