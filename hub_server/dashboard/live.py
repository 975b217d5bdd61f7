"""Live parts: a change counter the store bumps, followed by Server-Sent Event streams.

Every commit the hub server makes (a batch of taps, a door's state, an
operator's change) bumps the :class:`ChangeFeed`. A stream looks at it
every ``poll_s`` and, when it moved, renders its parts again and sends them
as named events (htmx's SSE extension swaps each into the element with the
matching ``sse-swap``), at most once per ``min_gap_s``. A comment every
``keepalive_s`` keeps proxies from closing an idle stream; the stream ends
when the browser goes away, the session ends, or the server stops.
"""

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

FEED = "changes"
"""The context extra holding the server's :class:`ChangeFeed`."""

POLL_S = 0.1
MIN_GAP_S = 0.25
KEEPALIVE_S = 15.0


class ChangeFeed:
    """A counter of changes, safe to bump from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version = 0
        self._closed = threading.Event()

    def bump(self) -> None:
        """Something changed."""
        with self._lock:
            self._version += 1

    @property
    def version(self) -> int:
        """How many changes so far."""
        return self._version

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        self._closed.set()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed.is_set()


def event(name: str, data: str) -> str:
    """One Server-Sent Event; every line of ``data`` gets its own ``data:`` field."""
    lines = data.splitlines() or [""]
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def stream(
    feed: ChangeFeed,
    render: Callable[[], Mapping[str, str]],
    still_signed_in: Callable[[], Awaitable[bool]],
    *,
    poll_s: float = POLL_S,
    min_gap_s: float = MIN_GAP_S,
    keepalive_s: float = KEEPALIVE_S,
) -> AsyncIterator[str]:
    """The events of one live page: everything at once, then again after each change."""
    seen = -1
    sent_at = 0.0
    quiet_since = time.monotonic()
    while not feed.closed:
        now = time.monotonic()
        if feed.version != seen and now - sent_at >= min_gap_s:
            seen = feed.version
            parts = await asyncio.to_thread(render)
            yield "".join(event(name, html) for name, html in parts.items())
            sent_at = quiet_since = time.monotonic()
        elif now - quiet_since >= keepalive_s:
            if not await still_signed_in():
                yield event("signed-out", SIGNED_OUT)
                return
            yield ": keep-alive\n\n"
            quiet_since = now
        await asyncio.sleep(poll_s)  # a browser gone away cancels this (Starlette's doing)


SIGNED_OUT = (
    '<p class="notice" role="alert">Your session has ended. '
    '<a href="/login">Sign in again</a> to see live updates.</p>'
)
