import threading
import uuid
from datetime import UTC, datetime, timedelta

from hublink.ids import id_time, new_id


def test_ids_are_uuid_version_7_with_rfc_variant():
    value = uuid.UUID(new_id())
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_ids_sort_in_the_order_they_were_made():
    ids = [new_id() for _ in range(20_000)]  # many share a millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_are_unique_across_threads():
    made: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        out.extend(new_id() for _ in range(5000))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for out in made for i in out]
    assert len(set(everything)) == len(everything)
    for out in made:
        assert out == sorted(out)


def test_id_time_is_when_the_id_was_made():
    before = datetime.now(UTC) - timedelta(milliseconds=5)
    made = id_time(new_id())
    assert before <= made <= datetime.now(UTC) + timedelta(milliseconds=5)
