"""The embedded MQTT broker (amqtt) for the demo and tiny installs.

It runs on its own asyncio loop in a background thread and binds to
127.0.0.1 unless told otherwise. Production sites use Mosquitto
(``hubtap broker-config``, with TLS and per-device ACLs); this broker has
neither, so keep it on loopback or a trusted network.
"""

import asyncio
import contextlib
import logging
import threading
from typing import Any

from pydantic import Field

from hublink.config import Section
from hublink.errors import BrokerError

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 2.0


class BrokerConfig(Section):
    """Where the embedded broker listens."""

    host: str = Field(default="127.0.0.1", description="Address the embedded broker binds to.")
    port: int = Field(default=1883, ge=1, le=65535, description="Port of the embedded broker.")


class EmbeddedBroker:
    """An amqtt broker in a background thread; a context manager."""

    def __init__(self, config: BrokerConfig | None = None) -> None:
        self.config = config or BrokerConfig()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None

    @property
    def address(self) -> str:
        """``host:port`` the broker listens on."""
        return f"{self.config.host}:{self.config.port}"

    def amqtt_settings(self) -> dict[str, Any]:
        """The configuration handed to amqtt: one TCP listener, anonymous clients."""
        return {
            "listeners": {"default": {"type": "tcp", "bind": self.address}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }

    def start(self, timeout: float = 10.0) -> "EmbeddedBroker":
        """Start listening; raises :class:`BrokerError` if it cannot (port in use, …)."""
        try:
            from amqtt.broker import Broker  # noqa: PLC0415  (optional dependency)
        except ImportError as err:
            raise BrokerError("the embedded broker needs amqtt: pip install 'hubtap[hub]'") from err
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        loop = asyncio.new_event_loop()
        settings = self.amqtt_settings()

        async def boot() -> Any:
            broker = Broker(settings)
            await broker.start()
            return broker

        try:
            self._broker = loop.run_until_complete(asyncio.wait_for(boot(), timeout))
        except Exception as err:
            loop.close()
            raise BrokerError(f"embedded broker cannot listen on {self.address}: {err}") from err
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="amqtt", daemon=True)
        self._thread.start()
        log.info("embedded broker listening on %s", self.address)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker; safe to call twice."""
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        broker = self._broker

        async def shutdown() -> None:
            # amqtt's own shutdown waits on connected clients; free the port and drop
            # the clients first so a stop is prompt and a restart can bind again.
            for server in getattr(broker, "_servers", {}).values():
                if server.instance is not None:
                    server.instance.close()
            for _, handler in list(getattr(broker, "_sessions", {}).values()):
                if handler is not None and handler.writer is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(handler.writer.close(), SHUTDOWN_GRACE_S)
            try:
                await asyncio.wait_for(broker.shutdown(), SHUTDOWN_GRACE_S)
            except TimeoutError:
                log.debug("amqtt shutdown timed out; cancelling what is left")
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:  # client handlers amqtt leaves behind
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout)
        except Exception as err:  # noqa: BLE001  (stopping must not fail the caller)
            log.warning("embedded broker did not shut down cleanly: %r", err)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
