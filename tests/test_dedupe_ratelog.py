import logging

from hublink.dedupe import SeenIds
from hublink.ratelog import RateLimitedLog


def test_seen_ids_reports_repeats_within_its_window():
    seen = SeenIds(size=3)
    assert [seen.seen(i) for i in "abca"] == [False, False, False, True]
    seen.seen("d")
    seen.seen("e")  # "a" was refreshed by its repeat, so "b" and "c" fell out first
    assert not seen.seen("b")
    assert len(seen) == 3


def test_rate_limited_log_caps_a_flood_and_summarises(caplog):
    now = [0.0]
    limited = RateLimitedLog(logging.getLogger("flood"), burst=3, period=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="flood"):
        for i in range(100):
            limited.log(logging.WARNING, "bad frame %d", i)
        assert [r.getMessage() for r in caplog.records] == [
            "bad frame 0",
            "bad frame 1",
            "bad frame 2",
        ]
        now[0] = 61.0
        limited.log(logging.WARNING, "bad frame %d", 100)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[3] == "97 similar messages suppressed in the last 60 s"
    assert messages[4] == "bad frame 100"
