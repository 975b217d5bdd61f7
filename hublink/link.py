"""The MQTT link every hubtap process talks through (paho-mqtt 2, MQTT 3.1.1).

What it adds to paho:

* the contract decides: :meth:`Link.publish` looks the topic up in
  :mod:`hublink.topics` and encodes, retains, and picks the QoS and the
  durable path from there; nobody can publish off-contract by accident;
* reconnects forever with jittered exponential backoff; subscriptions and
  the latest retained value of every topic this link publishes are restored
  on each new connection (so retained state survives a broker restart);
* availability: a retained ``online`` on connect, ``offline`` as last will
  and on a clean stop;
* durable topics go through the SQLite :class:`~hublink.outbox.Outbox` and
  are delivered in order, at least once, whenever the broker is reachable;
* received payloads are decoded by the topic's codec: bad ones are counted
  and logged, optional dedupe drops repeated ids, and a handler that raises
  is counted and logged; none of these stops the loop;
* topics outside the contract (Home Assistant's discovery configs and status)
  only through :meth:`Link.publish_raw` and :meth:`Link.subscribe_raw`, which
  refuse every topic the contract has: those always go through the codecs.

Each connection uses a fresh paho client, so messages paho held for a dead
connection are never resent behind newer ones: the outbox alone resends,
oldest first. paho runs its own network thread (``loop_start``), so every
socket write happens there and packets from several threads never interleave.
"""

import logging
import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Generic, Literal, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from hublink.backoff import reconnect_delay
from hublink.config import MqttConfig
from hublink.dedupe import SeenIds
from hublink.errors import LinkError, MessageError, OutboxFull
from hublink.messages import AVAILABILITY, Availability, Message
from hublink.outbox import Outbox
from hublink.ratelog import RateLimitedLog
from hublink.topics import TopicMatch, Topics, TopicSpec, contract_overlap

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

ROUTE_CACHE_SIZE = 4096
"""Topics remembered per link; a site has a few per door and kiosk."""


@dataclass(frozen=True)
class Delivery(Generic[M]):
    """A decoded message as a handler receives it."""

    topic: str
    spec: TopicSpec
    ids: dict[str, str]
    message: M
    retained: bool


Handler = Callable[[Delivery[Any]], None]


@dataclass(frozen=True)
class Payload:
    """A received payload left undecoded (see :meth:`Link.subscribe_payload`)."""

    topic: str
    spec: TopicSpec
    ids: dict[str, str]
    data: bytes
    retained: bool


PayloadHandler = Callable[[Payload], None]


@dataclass(frozen=True)
class RawMessage:
    """A message on a topic outside the contract (see :meth:`Link.subscribe_raw`)."""

    topic: str
    payload: bytes
    retained: bool


RawHandler = Callable[[RawMessage], None]


@dataclass
class LinkStats:
    """Counters, for logs, health checks and tests."""

    connects: int = 0
    disconnects: int = 0
    connect_failures: int = 0
    subscriptions_refused: int = 0
    received: int = 0
    rejected: int = 0
    duplicates: int = 0
    handler_errors: int = 0
    published: int = 0
    dropped: int = 0
    queued: int = 0
    outbox_full: int = 0
    outbox_sent: int = 0
    outbox_acked: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class _Subscription:
    topic_filter: str
    spec: TopicSpec | None  # None: a filter outside the contract
    handler: Handler | PayloadHandler | RawHandler
    qos: int
    dedupe: bool = False
    undecoded: bool = False


@dataclass
class _PumpState:
    generation: int = -1
    handed: int = 0
    caught_up: bool = False
    inflight: deque[tuple[mqtt.MQTTMessageInfo, int]] = field(default_factory=deque)


class Link:
    """A resilient connection to the broker for one hubtap process."""

    def __init__(
        self,
        config: MqttConfig,
        topics: Topics,
        *,
        client_id: str,
        availability_topic: str | None = None,
        outbox: Outbox | None = None,
        clean_session: bool = True,
        dedupe_window: int = 10_000,
        outbox_window: int = 1000,
    ) -> None:
        self.config = config
        self.topics = topics
        self.client_id = config.client_id or client_id
        self.availability_topic = availability_topic
        if availability_topic is not None:
            topics.spec_for(availability_topic)
        self.outbox = outbox
        self.clean_session = clean_session
        self.outbox_window = outbox_window
        self.stats = LinkStats()
        self._seen = SeenIds(dedupe_window)
        self._bad_input_log = RateLimitedLog(log)
        self._connect_log = RateLimitedLog(log)
        self._outbox_log = RateLimitedLog(log)
        self._subs: list[_Subscription] = []
        self._retained: dict[str, bytes] = {}
        self._cond = threading.Condition()
        self._client: mqtt.Client | None = None
        self._generation = 0
        self._outbox_dirty = True
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._spec_cache: dict[str, TopicSpec] = {}
        self._routes: dict[str, tuple[TopicMatch | None, list[_Subscription]] | None] = {}
        self._subacks: dict[int, tuple[list[str], bool]] = {}  # mid: filters, gates connected
        self._sent_retained: dict[str, bytes] = {}  # retained values sent on CONNACK

    # --- lifecycle ---------------------------------------------------------

    def start(self) -> "Link":
        """Start connecting in the background; returns at once."""
        if self._threads:
            raise LinkError("link already started")
        self._new_client()  # configuration problems (TLS files) surface here, not in a thread
        self._threads = [
            threading.Thread(target=self._run, name=f"mqtt-{self.client_id}", daemon=True)
        ]
        if self.outbox is not None:
            self._threads.append(
                threading.Thread(target=self._pump, name=f"outbox-{self.client_id}", daemon=True)
            )
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Say ``offline``, disconnect and stop the threads; safe to call twice."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        with self._cond:
            client, connected = self._client, self._connected.is_set()
            self._cond.notify_all()
        if client is not None:
            if connected and self.availability_topic is not None:
                info = client.publish(
                    self.availability_topic, self._availability("offline"), qos=1, retain=True
                )
                if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                    _wait_published(info, min(timeout, 2.0))
            client.disconnect()
        for thread in self._threads:
            thread.join(timeout)

    def __enter__(self) -> "Link":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def connected(self) -> bool:
        """True while a session is up and the broker has answered its subscriptions."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        """Block until connected; False on timeout."""
        return self._connected.wait(timeout)

    # --- publishing --------------------------------------------------------

    def publish(self, topic: str, message: Message) -> bool:
        """Send ``message`` on ``topic`` as the contract says.

        Durable topics are committed to the outbox (True once stored) and
        delivered whenever the broker is reachable. Other topics go out now
        if connected; a retained value is also kept and re-sent on every new
        connection; a non-retained message while disconnected is dropped,
        counted, and False is returned.
        """
        spec = self._spec(topic)
        payload = spec.codec.encode(message)
        if spec.durable:
            if self.outbox is None:
                raise LinkError(f"{spec.name} is durable: this link needs an outbox to send it")
            try:
                self.outbox.put(topic, payload, retain=spec.retained)
            except OutboxFull:
                with self._cond:
                    self.stats.outbox_full += 1
                self._outbox_log.log(logging.ERROR, "outbox full: not storing %s", topic)
                raise
            with self._cond:
                self.stats.queued += 1
                self._outbox_dirty = True
                self._cond.notify_all()
            return True
        return self._send(topic, payload, spec.qos, spec.retained)

    def publish_raw(
        self, topic: str, payload: bytes, *, retain: bool, qos: Literal[0, 1] = 1
    ) -> bool:
        """Send ``payload`` as it is on a topic outside the contract (Home Assistant's).

        Refuses (:class:`LinkError`) wildcards and any topic of the contract: those go
        through :meth:`publish`. Otherwise as :meth:`publish` does for a non-durable topic:
        a retained value (an empty one too, which clears the topic) is kept and re-sent on
        every new connection; a non-retained one while disconnected is dropped and counted.
        """
        if "+" in topic or "#" in topic or not topic:
            raise LinkError(f"cannot publish to {topic!r}: not a topic name")
        self._refuse_contract(topic)
        return self._send(topic, bytes(payload), qos, retain)

    def _send(self, topic: str, payload: bytes, qos: int, retain: bool) -> bool:
        with self._cond:
            if retain:
                self._retained[topic] = payload
            client = self._client if self._connected.is_set() else None
            if client is None and not retain:
                self.stats.dropped += 1
        if client is None:
            return False
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN:
            return False
        _check(info.rc, f"publish to {topic}")
        with self._cond:
            self.stats.published += 1
        return True

    def _refuse_contract(self, topic_filter: str) -> None:
        spec = contract_overlap(self.topics, topic_filter)
        if spec is not None:
            raise LinkError(
                f"{topic_filter!r} reaches the contract's {spec.name} topic:"
                " use publish or subscribe, which encode and decode it"
            )

    # --- subscribing -------------------------------------------------------

    def subscribe(self, topic_filter: str, handler: Handler, *, dedupe: bool = False) -> None:
        """Call ``handler`` with each valid message on ``topic_filter``.

        The filter is a contract topic, with :data:`~hublink.topics.ANY` for
        id levels. With ``dedupe``, a message id seen recently is dropped
        (at-least-once senders resend after reconnects). Subscriptions made
        before :meth:`start` are in place when :meth:`wait_connected` returns.
        Handlers run on the link's network thread: keep them short.
        """
        spec = self.topics.spec_for(topic_filter, wildcards=True)
        self._add_subscription(_Subscription(topic_filter, spec, handler, spec.qos, dedupe))

    def _add_subscription(self, sub: _Subscription) -> None:
        topic_filter = sub.topic_filter
        with self._cond:
            self._subs.append(sub)
            self._routes.clear()
            client = self._client if self._connected.is_set() else None
        if client is not None:
            result, mid = client.subscribe(topic_filter, qos=sub.qos)
            if result != MQTTErrorCode.MQTT_ERR_NO_CONN:
                _check(result, f"subscribe to {topic_filter}")
                if mid is not None:
                    with self._cond:
                        self._subacks[mid] = ([topic_filter], False)

    def subscribe_payload(self, topic_filter: str, handler: PayloadHandler) -> None:
        """Like :meth:`subscribe`, but hand over the payload undecoded.

        For payloads too large to decode in the network thread or to hold as
        models at once (a 100,000-entry access list): the handler decodes
        with the topic's codec itself, and counts what it rejects.
        """
        spec = self.topics.spec_for(topic_filter, wildcards=True)
        self._add_subscription(_Subscription(topic_filter, spec, handler, spec.qos, undecoded=True))

    def subscribe_raw(
        self, topic_filter: str, handler: RawHandler, *, qos: Literal[0, 1] = 1
    ) -> None:
        """Call ``handler`` with each message on a filter outside the contract, as it came.

        For Home Assistant's status and lock command topics. Refuses (:class:`LinkError`)
        a filter that could match a topic of the contract (``#`` too): those are decoded
        by :meth:`subscribe`. Handlers run on the network thread like any other: keep them
        short, and check the payload (it is whatever anyone published).
        """
        self._refuse_contract(topic_filter)
        self._add_subscription(_Subscription(topic_filter, None, handler, qos))

    def resubscribe(self, topic_filter: str) -> bool:
        """Send SUBSCRIBE again for a filter this link already has.

        MQTT answers a repeated SUBSCRIBE with the topic's retained message,
        so this fetches the latest retained value again (an access list
        snapshot after a missed delta). False when not connected: the next
        connection subscribes afresh anyway.
        """
        with self._cond:
            known = next((s for s in self._subs if s.topic_filter == topic_filter), None)
            client = self._client if self._connected.is_set() else None
        if known is None:
            raise LinkError(f"not subscribed to {topic_filter}")
        if client is None:
            return False
        result, _ = client.subscribe(topic_filter, qos=known.qos)
        if result == MQTTErrorCode.MQTT_ERR_NO_CONN:
            return False
        _check(result, f"subscribe to {topic_filter}")
        return True

    # --- internals ---------------------------------------------------------

    def _spec(self, topic: str) -> TopicSpec:
        spec = self._spec_cache.get(topic)
        if spec is None:
            spec = self.topics.spec_for(topic)
            if len(self._spec_cache) < ROUTE_CACHE_SIZE:
                self._spec_cache[topic] = spec
        return spec

    def _availability(self, status: Literal["online", "offline"]) -> bytes:
        return AVAILABILITY.encode(Availability(status=status))

    def _new_client(self) -> mqtt.Client:
        cfg = self.config
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=self.clean_session,
            protocol=MQTTProtocolVersion.MQTTv311,
            reconnect_on_failure=False,
            userdata=threading.Event(),  # set when this connection is lost
        )
        if cfg.username is not None:
            password = cfg.password.get_secret_value() if cfg.password else None
            client.username_pw_set(cfg.username, password)
        if cfg.tls:
            try:
                client.tls_set(
                    ca_certs=str(cfg.ca_file) if cfg.ca_file else None,
                    certfile=str(cfg.cert_file) if cfg.cert_file else None,
                    keyfile=str(cfg.key_file) if cfg.key_file else None,
                    cert_reqs=ssl.CERT_REQUIRED,
                )
            except (OSError, ssl.SSLError, ValueError) as err:
                raise LinkError(f"cannot set up TLS for the broker connection: {err}") from err
        if self.availability_topic is not None:
            client.will_set(
                self.availability_topic, self._availability("offline"), qos=1, retain=True
            )
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        return client

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            client = self._new_client()
            try:
                client.connect(self.config.host, self.config.port, self.config.keepalive)
            except (OSError, ssl.SSLError) as err:
                with self._cond:
                    self.stats.connect_failures += 1
                self._connect_log.log(
                    logging.WARNING,
                    "cannot reach broker %s:%d: %s",
                    self.config.host,
                    self.config.port,
                    err,
                )
            else:
                _send_without_delay(client)
                with self._cond:
                    if self._stopping.is_set():
                        client.disconnect()
                        break
                    self._client = client
                    generation = self._generation
                # paho's own thread does every socket write; a publish from another
                # thread only queues and wakes it, so packets never interleave.
                client.loop_start()
                lost: threading.Event = client.user_data_get()
                while not lost.wait(1.0):
                    if self._stopping.is_set():
                        client.disconnect()
                client.loop_stop()
                with self._cond:
                    had_session = self._generation != generation
                    self._connected.clear()
                    self._client = None
                    self._cond.notify_all()
                if had_session:  # it worked for a while: start the waits over
                    attempt = 0
            cfg = self.config
            if self._stopping.wait(
                reconnect_delay(attempt, cfg.reconnect_min_s, cfg.reconnect_max_s)
            ):
                break
            attempt += 1

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if reason.is_failure:
            with self._cond:
                self.stats.connect_failures += 1
            log.error(
                "broker %s:%d refused the connection: %s",
                self.config.host,
                self.config.port,
                reason,
            )
            return
        with self._cond:
            subs = list(self._subs)
            retained = list(self._retained.items())
        awaiting_suback = False
        if subs:
            filters: list[tuple[str, int]] = list(
                dict.fromkeys((s.topic_filter, s.qos) for s in subs)
            )
            result, mid = client.subscribe(filters)
            if result == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                awaiting_suback = True
                with self._cond:
                    self._subacks[mid] = ([f for f, _ in filters], True)
            else:  # never raise in paho's thread
                log.error("cannot restore subscriptions: %s", mqtt.error_string(result))
        if self.availability_topic is not None:
            client.publish(
                self.availability_topic, self._availability("online"), qos=1, retain=True
            )
        for topic, payload in retained:
            client.publish(topic, payload, qos=1, retain=True)
        if not awaiting_suback:  # else connected once the broker answers the SUBSCRIBE
            self._declare_connected(client, dict(retained))
        else:
            with self._cond:
                self._sent_retained = dict(retained)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: list[ReasonCode], props: Any
    ) -> None:
        with self._cond:
            filters, gates_connection = self._subacks.pop(mid, ([], False))
        refused = [f for f, reason in zip(filters, reasons, strict=False) if reason.is_failure]
        if refused:
            with self._cond:
                self.stats.subscriptions_refused += len(refused)
            log.error(
                "broker refused the subscription to %s: check this client's ACL",
                ", ".join(refused),
            )
        if gates_connection:
            with self._cond:
                sent = self._sent_retained
            self._declare_connected(client, sent)

    def _declare_connected(self, client: mqtt.Client, sent: dict[str, bytes]) -> None:
        """Declare the session up, first sending retained values set since CONNACK.

        ``publish`` keeps a retained value without sending it until the link
        counts as connected; ``sent`` is what ``_on_connect`` already sent.
        """
        with self._cond:  # one hold: a publish lands either in ``missed`` or after this
            for topic, payload in self._retained.items():
                if sent.get(topic) != payload:
                    client.publish(topic, payload, qos=1, retain=True)
            self._generation += 1
            self.stats.connects += 1
            self._connected.set()
            self._cond.notify_all()
        log.info(
            "connected to broker %s:%d as %s", self.config.host, self.config.port, self.client_id
        )

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        userdata.set()
        with self._cond:
            was_connected = self._connected.is_set()
            self._connected.clear()
            if was_connected:
                self.stats.disconnects += 1
            self._cond.notify_all()
        if was_connected and not self._stopping.is_set():
            log.warning("lost the broker connection (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.stats.received += 1
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            self._reject("(undecodable topic)", "topic is not UTF-8")
            return
        route = self._route(topic)
        if route is None:
            return
        found, subs = route
        subs = self._hand_over(topic, found, subs, bytes(msg.payload), bool(msg.retain))
        if not subs:
            return
        if found is None:
            self._reject(topic, "topic has an id the contract does not allow")
            return
        try:
            message = found.spec.codec.decode(bytes(msg.payload))
        except MessageError as err:
            self._reject(topic, str(err))
            return
        delivery = Delivery(topic, found.spec, found.ids, message, bool(msg.retain))
        if any(s.dedupe for s in subs) and self._seen.seen(message.id):
            self.stats.duplicates += 1
            return
        for sub in subs:
            self._call(sub, delivery, f"message {message.id}")

    def _hand_over(
        self,
        topic: str,
        found: TopicMatch | None,
        subs: list[_Subscription],
        data: bytes,
        retained: bool,
    ) -> list[_Subscription]:
        """Give the payload as it came to the subscriptions that want it so; the others."""
        rest = []
        for sub in subs:
            if sub.spec is None:
                raw = RawMessage(topic, data, retained)
                self._call(sub, raw, "a message outside the contract")
            elif sub.undecoded and found is not None:
                payload = Payload(topic, found.spec, found.ids, data, retained)
                self._call(sub, payload, "an undecoded payload")
            else:
                rest.append(sub)
        return rest

    def _call(self, sub: _Subscription, item: Any, what: str) -> None:
        try:
            sub.handler(item)
        except Exception:
            self.stats.handler_errors += 1
            log.exception("handler for %s failed on %s", sub.topic_filter, what)

    def _route(self, topic: str) -> tuple[TopicMatch | None, list[_Subscription]] | None:
        """What a received topic is and who wants it; cached per topic (few exist)."""
        with self._cond:
            route = self._routes.get(topic)
            if route is None:
                subs = [s for s in self._subs if mqtt.topic_matches_sub(s.topic_filter, topic)]
                route = (self.topics.match(topic), subs) if subs else None
                if len(self._routes) < ROUTE_CACHE_SIZE:
                    self._routes[topic] = route
        return route

    def _reject(self, topic: str, why: str) -> None:
        self.stats.rejected += 1
        self._bad_input_log.log(logging.WARNING, "rejected a message on %s: %s", topic, why)

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        with self._cond:
            self._cond.notify_all()

    # --- the outbox pump -----------------------------------------------------

    def _pump(self) -> None:
        assert self.outbox is not None
        state = _PumpState()
        while True:
            with self._cond:
                client = self._client if self._connected.is_set() else None
                ready = client is not None and (self._outbox_dirty or not state.caught_up)
                room = len(state.inflight) < self.outbox_window
                if not self._stopping.is_set() and not (ready and room):
                    self._cond.wait(0.02 if state.inflight and client is not None else 1.0)
                    client = self._client if self._connected.is_set() else None
                generation = self._generation
                if client is not None:
                    self._outbox_dirty, dirty = False, self._outbox_dirty
                else:
                    dirty = False
            self._pump_acks(state)
            if self._stopping.is_set():
                return
            if generation != state.generation:
                state = _PumpState(generation=generation)
                dirty = True
            if client is not None and (dirty or not state.caught_up):
                self._pump_send(client, state)

    def _pump_acks(self, state: _PumpState) -> None:
        assert self.outbox is not None
        acked = 0
        last = None
        while state.inflight and state.inflight[0][0].is_published():
            last = state.inflight.popleft()[1]
            acked += 1
        if last is not None:
            self.outbox.remove_through(last)
            with self._cond:
                self.stats.outbox_acked += acked

    def _pump_send(self, client: mqtt.Client, state: _PumpState) -> None:
        assert self.outbox is not None
        room = self.outbox_window - len(state.inflight)
        if room <= 0:
            return
        items = self.outbox.peek(after=state.handed, limit=room)
        state.caught_up = len(items) < room
        sent = 0
        for item in items:
            info = client.publish(item.topic, item.payload, qos=1, retain=item.retain)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                state.caught_up = False  # the next connection starts again from the oldest
                break
            state.inflight.append((info, item.seq))
            state.handed = item.seq
            sent += 1
        with self._cond:
            self.stats.outbox_sent += sent


def _send_without_delay(client: mqtt.Client) -> None:
    """Turn Nagle's algorithm off: a small packet (a tap's event, a PUBACK) goes out at once
    instead of waiting up to 40 ms for the peer's delayed ACK (paho leaves it on)."""
    sock = client.socket()
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as err:
            log.debug("cannot set TCP_NODELAY: %s", err)


def _check(rc: MQTTErrorCode | int, what: str) -> None:
    if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
        raise LinkError(f"{what} failed: {mqtt.error_string(rc)}")


def _wait_published(info: mqtt.MQTTMessageInfo, timeout: float) -> None:
    try:
        info.wait_for_publish(timeout)
    except (RuntimeError, ValueError) as err:
        log.debug("offline notice not delivered: %s", err)
