"""What ``hubtap server`` serves over HTTP: the API under ``/api/v1/``, the dashboard elsewhere.

Both share one :class:`~hub_server.api.context.ApiContext`. The API answers
to bearer tokens, the dashboard to a login session; neither accepts the
other's credentials.
"""

from collections.abc import Mapping

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from hub_server.api.app import PREFIX, create_app
from hub_server.api.context import context_of
from hub_server.config import HubConfig
from hub_server.dashboard.app import create_dashboard
from hub_server.dashboard.live import ChangeFeed
from hub_server.store import Store


class Site:
    """An ASGI application that hands ``/api/v1/…`` to the API and the rest to the dashboard."""

    def __init__(self, api: FastAPI, dashboard: FastAPI, feed: ChangeFeed) -> None:
        self.api = api
        self.dashboard = dashboard
        self.feed = feed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        api = path == PREFIX or path.startswith(PREFIX + "/")
        await (self.api if api else self.dashboard)(scope, receive, send)


def create_site(
    store: Store,
    config: HubConfig,
    *,
    site_key: bytes | None,
    extras: Mapping[str, object] | None = None,
) -> Site:
    """The API and the dashboard over ``store``; the store's commits drive the live pages."""
    api = create_app(store, config, site_key=site_key, extras=extras)
    feed = ChangeFeed()
    store.on_commit(feed.bump)
    return Site(api, create_dashboard(context_of(api), feed), feed)
