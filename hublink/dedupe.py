"""A bounded memory of message ids seen recently, for at-least-once receivers."""

from collections import OrderedDict


class SeenIds:
    """Remembers the last ``size`` ids; :meth:`seen` tells whether one came before."""

    def __init__(self, size: int = 10_000) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, message_id: str) -> bool:
        """Record ``message_id``; True if it was already recorded (a duplicate)."""
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return True
        self._ids[message_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return False

    def __len__(self) -> int:
        return len(self._ids)
