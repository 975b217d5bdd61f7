"""A door-like process for tests: ``python -m tests.helpers.publisher PORT OUTBOX COUNT MODE``.

Publishes COUNT door events through the durable outbox and prints each
message id as soon as the link has accepted it. MODE ``hold`` then waits to
be killed; ``drain`` exits once the outbox is empty.
"""

import sys
import time

from hublink.config import MqttConfig
from hublink.link import Link
from hublink.messages import AlarmEvent
from hublink.outbox import Outbox
from hublink.topics import Topics

DRAIN_TIMEOUT_S = 60


def main() -> int:
    port, outbox_path, count, mode = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    topics = Topics("testsite")
    config = MqttConfig(port=port, reconnect_min_s=0.1, reconnect_max_s=0.5)
    outbox = Outbox(outbox_path)
    link = Link(
        config,
        topics,
        client_id="publisher-front",
        availability_topic=topics.door_availability("front"),
        outbox=outbox,
    ).start()
    if not link.wait_connected(10):
        return 3
    print("connected", flush=True)
    for i in range(count):
        message = AlarmEvent(alarm="tamper", active=True, detail=str(i))
        link.publish(topics.door_event("front"), message)
        print(message.id, flush=True)
    if mode == "drain":
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while len(outbox) and time.monotonic() < deadline:
            time.sleep(0.05)
        link.stop()
        return 0 if not len(outbox) else 4
    while True:
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
