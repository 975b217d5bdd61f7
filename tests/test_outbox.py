import pytest

from hublink.errors import OutboxError, OutboxFull
from hublink.outbox import Outbox


def test_messages_come_back_in_order(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as box:
        seqs = [box.put(f"t/{i}", f"p{i}".encode(), retain=i == 2) for i in range(5)]
        assert seqs == sorted(seqs)
        items = box.peek()
        assert [i.topic for i in items] == [f"t/{i}" for i in range(5)]
        assert items[2].retain is True
        assert items[0].payload == b"p0"
        assert [i.seq for i in box.peek(after=seqs[1], limit=2)] == seqs[2:4]


def test_remove_through_forgets_acknowledged_messages(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as box:
        seqs = [box.put("t", b"x") for _ in range(5)]
        box.remove_through(seqs[2])
        assert len(box) == 2
        assert [i.seq for i in box.peek()] == seqs[3:]


def test_messages_survive_reopening_and_sequence_numbers_never_repeat(tmp_path):
    path = tmp_path / "o.sqlite3"
    with Outbox(path) as box:
        first = [box.put("t", b"x") for _ in range(3)]
        box.remove_through(first[-1])
        kept = box.put("t", b"kept")
    with Outbox(path, synchronous="normal") as box:
        assert [i.payload for i in box.peek()] == [b"kept"]
        assert box.put("t", b"y") > kept > first[-1]


def test_closed_outbox_refuses_work_and_close_is_safe_twice(tmp_path):
    box = Outbox(tmp_path / "o.sqlite3")
    box.close()
    box.close()
    with pytest.raises(OutboxError, match="is closed"):
        box.put("t", b"x")


def test_an_unusable_path_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutboxError, match="cannot open outbox"):
        Outbox(tmp_path / "file" / "o.sqlite3")


def test_a_full_outbox_refuses_new_messages_until_the_broker_takes_some(tmp_path):
    path = tmp_path / "o.sqlite3"
    with Outbox(path, max_messages=3) as box:
        seqs = [box.put("t", b"x") for _ in range(3)]
        with pytest.raises(OutboxFull, match=r"is full \(3 messages waiting"):
            box.put("t", b"lost")
        assert len(box) == 3
        box.remove_through(seqs[0])
        box.put("t", b"fits again")
    with Outbox(path, max_messages=3) as box:  # the count is read back on opening
        assert len(box) == 3
        with pytest.raises(OutboxFull):
            box.put("t", b"x")
