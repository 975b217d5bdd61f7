"""hubtap's hardware layer: card readers, the lock, door sensors, feedback.

Small interfaces (``CardReader`` over a ``ReaderDriver``, ``Lock``,
``DoorContact``, ``ExitButton``, ``Feedback``) with real and mock
implementations chosen by configuration (``hardware.config``,
``hardware.build``), never by "if testing". Wiring: docs/hardware.md.
"""
