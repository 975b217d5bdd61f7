"""The HTTP server (uvicorn) on a thread of ``hubtap server``: the dashboard and the API."""

import logging
import threading
import time

import uvicorn

from hub_server.api.live import BUS
from hub_server.config import HubConfig
from hub_server.errors import HubError
from hub_server.site import create_site
from hub_server.store import Store
from hublink.link import Link

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 3


class HttpServer:
    """Serves the dashboard and the API on ``[http] host:port`` until stopped."""

    def __init__(self, config: HubConfig, store: Store, link: Link) -> None:
        site_key = config.site.key_bytes() if config.site.key is not None else None
        self.site = create_site(store, config, site_key=site_key, extras={BUS: link})
        self.address = f"http://{config.http.host}:{config.http.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.site,
                host=config.http.host,
                port=config.http.port,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=STOP_TIMEOUT_S,
            )
        )
        self._thread: threading.Thread | None = None

    def start(self) -> "HttpServer":
        """Start serving; :class:`HubError` if the port cannot be bound."""
        self._thread = threading.Thread(target=self._server.run, name="hub-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not self._server.started:
            self.stop()
            raise HubError(f"the HTTP server could not start on {self.address} (port in use?)")
        log.info("dashboard on %s/, HTTP API on %s/api/v1/", self.address, self.address)
        return self

    def stop(self) -> None:
        """Stop serving (live pages end their streams); safe to call twice."""
        self.site.feed.close()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
