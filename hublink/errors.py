"""Exceptions raised by hublink; every one derives from :class:`HublinkError`."""


class HublinkError(Exception):
    """Root of every error hublink raises."""


class ConfigError(HublinkError):
    """A configuration file or environment override is missing or invalid."""


class TopicError(HublinkError, ValueError):
    """An id cannot be used in a topic, or a topic is not part of the contract."""


class MessageError(HublinkError, ValueError):
    """A payload cannot be encoded or decoded as the message the contract expects."""


class LinkError(HublinkError):
    """The MQTT client refused an operation (paho's error codes, made unignorable)."""


class OutboxError(HublinkError):
    """The durable outbox could not be opened or written."""


class OutboxFull(OutboxError):
    """The outbox holds its maximum of messages; the new one was not stored."""


class BrokerError(HublinkError):
    """The embedded broker could not start or stop."""


class CredentialError(HublinkError, ValueError):
    """A card UID that cannot be read as one."""
