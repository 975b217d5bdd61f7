"""``screen.json``: what the kiosk shows now, as data, for the demo, tests and support.

Written beside the screenshots after each new frame: the current view's
kind and texts, the model's revision and when it was drawn.
"""

import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path

from kiosk.views import ScreenView

NAME = "screen.json"


def write_screen(folder: Path, view: ScreenView, revision: int, drawn_at: datetime) -> Path:
    """Replace ``folder/screen.json`` atomically with ``view``; its path."""
    path = folder / NAME
    data = {"revision": revision, "drawn_at": drawn_at.isoformat(), **dataclasses.asdict(view)}
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, path)
    return path


def read_screen(folder: Path) -> dict[str, object] | None:
    """The last ``screen.json`` in ``folder``, or None before the first frame."""
    try:
        data: dict[str, object] = json.loads((folder / NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return data
