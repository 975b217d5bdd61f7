"""hublink: the one contract between hubtap's doors, kiosks and hub server.

Topics (:mod:`hublink.topics`), message models and codecs
(:mod:`hublink.messages`), configuration (:mod:`hublink.config`), the MQTT
link with its durable outbox (:mod:`hublink.link`, :mod:`hublink.outbox`)
and the embedded broker (:mod:`hublink.broker`).
"""

from hublink.errors import (
    BrokerError,
    ConfigError,
    HublinkError,
    LinkError,
    MessageError,
    OutboxError,
    OutboxFull,
    TopicError,
)

__all__ = [
    "BrokerError",
    "ConfigError",
    "HublinkError",
    "LinkError",
    "MessageError",
    "OutboxError",
    "OutboxFull",
    "TopicError",
]
