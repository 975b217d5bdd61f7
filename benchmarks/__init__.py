"""Benchmarks of the hublink MQTT library against a real Mosquitto on loopback.

Run them all with ``python -m benchmarks`` (``make bench``), or one with
``python -m benchmarks.link_roundtrip`` / ``python -m benchmarks.outbox_drain``.
Each prints one JSON document; see docs/performance.md.
"""
