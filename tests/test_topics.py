import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hublink.errors import TopicError
from hublink.topics import ANY, SPECS, Topics

ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")


def build(topics: Topics, spec_name: str, *values: str) -> str:
    return getattr(topics, spec_name)(*values)


def test_every_spec_has_a_builder_and_every_builder_a_spec():
    builders = {
        name
        for name in dir(Topics)
        if not name.startswith("_") and name not in {"build", "match", "spec_for"}
    }
    assert builders == {spec.name for spec in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_topics_live_under_the_site_base(spec, topics):
    topic = build(topics, spec.name, *(["d1"] * len(spec.params)))
    assert topic == "hubtap/testsite/" + re.sub(r"<[a-z_]+>", "d1", spec.pattern)


def test_examples_match_the_brief(topics):
    assert topics.door_event("front") == "hubtap/testsite/door/front/event"
    assert topics.door_acl_snapshot("front") == "hubtap/testsite/door/front/acl/snapshot"
    assert topics.door_command_result("front") == "hubtap/testsite/door/front/command/result"
    assert topics.kiosk_directory("k1") == "hubtap/testsite/kiosk/k1/directory"
    assert topics.occupancy() == "hubtap/testsite/occupancy"
    assert topics.hub_availability() == "hubtap/testsite/hub/availability"


@pytest.mark.parametrize(
    "bad", ["", "a/b", "#", "door one", "-lead", "x" * 65, "dörr", "a\x00", "d1\n"]
)
def test_ids_that_would_break_a_topic_are_refused(topics, bad):
    with pytest.raises(TopicError, match="cannot be used in a topic"):
        topics.door_event(bad)


def test_a_bad_site_id_is_refused():
    with pytest.raises(TopicError, match="site id"):
        Topics("my/site")


def test_any_gives_a_single_level_wildcard(topics):
    assert topics.door_event(ANY) == "hubtap/testsite/door/+/event"
    assert topics.match(topics.door_event(ANY)) is None
    found = topics.match(topics.door_event(ANY), wildcards=True)
    assert found is not None
    assert found.spec.name == "door_event"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@given(value=ids)
def test_match_recognises_every_built_topic(spec, value):
    topics = Topics("site-1")
    values = [value] * len(spec.params)
    found = topics.match(build(topics, spec.name, *values))
    assert found is not None
    assert found.spec == spec
    assert found.ids == dict(zip(spec.params, values, strict=True))


@pytest.mark.parametrize(
    "topic",
    [
        "hubtap/othersite/door/d1/event",
        "hubtap/testsite/door/d1/unknown",
        "hubtap/testsite/door/d1/event/extra",
        "hubtap/testsite/door/bad id/event",
        "other/testsite/occupancy",
    ],
)
def test_match_rejects_topics_outside_the_contract(topics, topic):
    assert topics.match(topic) is None
    with pytest.raises(TopicError, match="not a topic of the hubtap contract"):
        topics.spec_for(topic)


def test_build_checks_the_number_of_ids(topics):
    with pytest.raises(TopicError, match="takes 1 id"):
        topics.build(SPECS[0])
