"""``/spaceapi.json``: the public SpaceAPI document, for any origin and without sign-in.

A built document is served again for ``[spaceapi] cache_s`` seconds (and
browsers may keep it that long), one build at a time; ``cache_s = 0`` builds
each time. Documents are kept per address the hub was asked at (their links
point there), so a request naming another host never changes what others get.
See :mod:`hub_server.spaceapi`.
"""

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub_server import spaceapi
from hub_server.api.context import ApiContext, Context
from hub_server.config import SpaceApiSection
from hub_server.errors import NotFound
from hublink.messages import utcnow

router = APIRouter()

CACHE = "spaceapi_cache"
"""The context extra holding the :class:`DocumentCache`."""

ADDRESSES_KEPT = 8
"""Built documents kept at most (one per address asked at; the oldest goes first)."""

CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Max-Age": "86400",
}


class DocumentCache:
    """Serialised documents by the base address they were built for, with when."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[str, tuple[datetime, bytes]] = {}

    def get(self, base: str, now: datetime, max_age_s: float, build: Callable[[], bytes]) -> bytes:
        """The document for ``base`` built less than ``max_age_s`` before ``now``, or a new
        one from ``build`` (kept when ``max_age_s`` > 0); one build at a time."""
        with self._lock:
            found = self._built.get(base)
            if found is not None and found[0] <= now < found[0] + timedelta(seconds=max_age_s):
                return found[1]
            body = build()
            self._built.pop(base, None)
            if max_age_s > 0:
                self._built[base] = (now, body)
                while len(self._built) > ADDRESSES_KEPT:
                    del self._built[next(iter(self._built))]
            return body


@router.get("/spaceapi.json")
def document(request: Request, ctx: Context) -> Response:
    """The SpaceAPI v15 document (JSON), cached for ``cache_s``; 404 when turned off."""
    section = _section(ctx)
    base = str(request.base_url)
    now = utcnow()

    def build() -> bytes:
        built = spaceapi.document(ctx.store, ctx.config, base, now)
        return json.dumps(built, ensure_ascii=False).encode()

    body = _cache(ctx).get(base, now, section.cache_s, build)
    headers = {**CORS, "Cache-Control": f"public, max-age={int(section.cache_s)}"}
    return Response(body, media_type="application/json", headers=headers)


@router.options("/spaceapi.json")
def preflight(ctx: Context) -> Response:
    """A browser's CORS preflight: any origin may GET the document."""
    _section(ctx)
    return Response(status_code=204, headers=PREFLIGHT)


def _section(ctx: ApiContext) -> SpaceApiSection:
    section = ctx.config.spaceapi
    if not section.enabled:
        raise NotFound("this hub does not publish a SpaceAPI document")
    return section


def _cache(ctx: ApiContext) -> DocumentCache:
    return cast(DocumentCache, ctx.extras.setdefault(CACHE, DocumentCache()))
