"""Any interleaving of signups, guest changes, cancels, invitations and capacity changes keeps
the seat rules: checked against a plain-Python model of the queue after every step."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from hub_server import events, invitations, signups
from hub_server.errors import Invalid, Refused
from hub_server.events import EventChange
from hub_server.invitations import InvitationIn
from hub_server.models import build
from hub_server.store import Store
from tests.helpers.community_data import ACTOR, START, add_event, add_member, community, dump

MEMBERS = ("m-asa", "m-bjorn", "m-sigrid", "m-dag", "m-eva", "m-fia")
NO_ORGANISATION = {"m-sigrid"}
EMAILS = ("erik@example.org", "frida@example.org", "gustav@example.org")
EARLY = START - timedelta(days=1)
LATE = START - timedelta(minutes=10)
"""Past the events' cancellation deadline (30 minutes before the start), before the start."""


@dataclass
class Place:
    """A signup in the model."""

    member: str
    guests: int
    status: str
    request_id: str | None = None


@dataclass
class Model:
    """One event as the rules say it should be."""

    capacity: int
    max_guests: int
    signups: list[Place] = field(default_factory=list)
    invited: dict[str, int] = field(default_factory=dict)  # email -> invitation id
    promoted: list[str] = field(default_factory=list)  # every promotion, in order

    def taken(self) -> int:
        seats = sum(1 + s.guests for s in self.signups if s.status == "confirmed")
        return seats + len(self.invited)

    def free(self) -> int:
        return self.capacity - self.taken()

    def waitlist(self) -> list[Place]:
        return [s for s in self.signups if s.status == "waitlisted"]

    def live(self, member: str) -> Place | None:
        return next(
            (s for s in self.signups if s.member == member and s.status != "cancelled"), None
        )

    def position(self, place: Place) -> int | None:
        waiting = self.waitlist()
        return waiting.index(place) + 1 if place in waiting else None

    def guests_refused(self, member: str, guests: int) -> bool:
        return (
            guests > self.max_guests
            or (guests > 0 and member in NO_ORGANISATION)
            or 1 + guests > self.capacity
        )

    def promote(self) -> tuple[str, ...]:
        done = []
        while self.waitlist() and 1 + self.waitlist()[0].guests <= self.free():
            head = self.waitlist()[0]
            head.status = "confirmed"
            done.append(head.member)
        self.promoted += done
        return tuple(done)


class Signups(RuleBasedStateMachine):
    """Real services on a real store beside the model."""

    def __init__(self) -> None:
        super().__init__()
        self.store = community(Store.memory())
        for member_id in MEMBERS[3:]:
            add_member(self.store, member_id, member_id[2:].title())
        self.ids: list[str] = []
        self.models: dict[str, Model] = {}
        self.requests = 0

    def teardown(self) -> None:
        self.store.close()

    @initialize(
        shapes=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 3)), min_size=1, max_size=2),
        crowd=st.lists(
            st.tuples(st.integers(0, 1), st.sampled_from(MEMBERS), st.integers(0, 2)), max_size=10
        ),
    )
    def add_events(self, shapes: list[tuple[int, int]], crowd: list[tuple[int, str, int]]) -> None:
        """One or two events, and a crowd signing up for them (so queues form early)."""
        for n, (capacity, max_guests) in enumerate(shapes):
            event = add_event(
                self.store,
                id=f"ev-{n}",
                now=EARLY,
                capacity=capacity,
                max_guests=max_guests,
                visibility="open",
                cancel_deadline_min=30,
            )
            self.ids.append(event.id)
            self.models[event.id] = Model(capacity, max_guests)
        for n, member, guests in crowd:
            self.try_sign_up(self.ids[n % len(self.ids)], member, guests, None)

    # --- how a step is checked -----------------------------------------------------------

    def refused(self, call: Callable[[], object], reason: str) -> None:
        before = dump(self.store)
        with pytest.raises(Refused) as caught:
            call()
        assert caught.value.reason == reason, caught.value
        assert dump(self.store) == before, "a refusal changed the database"

    def invalid(self, call: Callable[[], object], field_name: str) -> None:
        before = dump(self.store)
        with pytest.raises(Invalid) as caught:
            call()
        assert caught.value.field == field_name
        assert dump(self.store) == before, "a refused change changed the database"

    @staticmethod
    def draw_member(data: st.DataObject, model: Model) -> str:
        """Mostly a member with a live signup (else any member: not signed up)."""
        live = [s.member for s in model.signups if s.status != "cancelled"]
        if live and data.draw(st.integers(0, 4)) < 4:
            return str(data.draw(st.sampled_from(live)))
        return str(data.draw(st.sampled_from(MEMBERS)))

    # --- rules ---------------------------------------------------------------------

    @rule(
        data=st.data(),
        member=st.sampled_from(MEMBERS),
        guests=st.integers(0, 3),
        with_request=st.booleans(),
    )
    def sign_up(self, data: st.DataObject, member: str, guests: int, with_request: bool) -> None:
        request_id = None
        if with_request:
            self.requests += 1
            request_id = f"req-{self.requests}"
        self.try_sign_up(data.draw(st.sampled_from(self.ids)), member, guests, request_id)

    def try_sign_up(self, event_id: str, member: str, guests: int, request_id: str | None) -> None:
        """Sign up as the model expects: a seat, a waitlist place or a refusal."""
        model = self.models[event_id]

        def call() -> signups.SignupResult:
            return signups.sign_up(
                self.store, event_id, member, guests=guests, actor=ACTOR, source="kiosk",
                now=EARLY, request_id=request_id,
            )  # fmt: skip

        if model.live(member) is not None:
            self.refused(call, "already_signed_up")
            return
        if model.guests_refused(member, guests):
            self.refused(call, "too_many_guests")
            return
        fits = not model.waitlist() and 1 + guests <= model.free()
        place = Place(member, guests, "confirmed" if fits else "waitlisted", request_id)
        model.signups.append(place)
        result = call()
        assert (result.status, result.guests, result.position, result.promoted) == (
            place.status, guests, model.position(place), (),
        )  # fmt: skip

    @precondition(lambda self: any(s.request_id for m in self.models.values() for s in m.signups))
    @rule(data=st.data())
    def repeat_a_request(self, data: st.DataObject) -> None:
        made = [
            (event_id, s)
            for event_id, m in self.models.items()
            for s in m.signups
            if s.request_id is not None
        ]
        event_id, place = data.draw(st.sampled_from(made))
        before = dump(self.store)
        result = signups.sign_up(
            self.store, event_id, place.member, guests=place.guests, actor=ACTOR,
            source="kiosk", now=EARLY, request_id=place.request_id,
        )  # fmt: skip
        assert dump(self.store) == before, "a repeated request changed the database"
        expected = (place.status, place.guests, self.models[event_id].position(place))
        assert (result.status, result.guests, result.position) == expected

    @rule(data=st.data(), guests=st.integers(0, 3))
    def change_guests(self, data: st.DataObject, guests: int) -> None:
        event_id = data.draw(st.sampled_from(self.ids))
        model = self.models[event_id]
        member = self.draw_member(data, model)
        place = model.live(member)

        def call() -> signups.SignupResult:
            return signups.change_guests(
                self.store, event_id, member, guests, actor=ACTOR, now=EARLY
            )

        if place is None:
            self.refused(call, "not_signed_up")
            return
        if model.guests_refused(member, guests):
            self.refused(call, "too_many_guests")
            return
        extra = guests - place.guests
        if place.status == "confirmed" and extra > 0 and (model.waitlist() or extra > model.free()):
            self.refused(call, "full")
            return
        promoted: tuple[str, ...] = ()
        if extra:
            place.guests = guests
            promoted = model.promote()
        result = call()
        assert (result.status, result.guests, result.promoted) == (place.status, guests, promoted)

    @rule(data=st.data(), force=st.booleans(), late=st.booleans())
    def cancel(self, data: st.DataObject, force: bool, late: bool) -> None:
        event_id = data.draw(st.sampled_from(self.ids))
        model = self.models[event_id]
        member = self.draw_member(data, model)
        place = model.live(member)

        def call() -> signups.SignupResult:
            return signups.cancel(
                self.store, event_id, member, actor=ACTOR, now=LATE if late else EARLY, force=force
            )

        if place is None:
            self.refused(call, "not_signed_up")
            return
        if place.status == "confirmed" and late and not force:
            self.refused(call, "past_deadline")
            return
        place.status = "cancelled"
        promoted = model.promote()
        result = call()
        assert (result.status, result.promoted) == ("cancelled", promoted)

    @rule(data=st.data(), email=st.sampled_from(EMAILS))
    def invite(self, data: st.DataObject, email: str) -> None:
        event_id = data.draw(st.sampled_from(self.ids))
        model = self.models[event_id]

        def call() -> invitations.Invitation:
            invitee = build(InvitationIn, name="Outsider", email=email.upper())
            return invitations.invite(self.store, event_id, invitee, actor=ACTOR, now=EARLY)

        if email in model.invited:
            self.refused(call, "already_invited")
        elif model.waitlist() or model.free() < 1:
            self.refused(call, "full")
        else:
            model.invited[email] = call().id

    @precondition(lambda self: any(m.invited for m in self.models.values()))
    @rule(data=st.data())
    def withdraw_invitation(self, data: st.DataObject) -> None:
        event_id = data.draw(st.sampled_from([e for e, m in self.models.items() if m.invited]))
        model = self.models[event_id]
        email = data.draw(st.sampled_from(sorted(model.invited)))
        invitation_id = model.invited.pop(email)
        model.promote()
        assert invitations.cancel(self.store, invitation_id, actor=ACTOR, now=EARLY).status == (
            "cancelled"
        )

    @rule(data=st.data(), capacity=st.integers(1, 6))
    def change_capacity(self, data: st.DataObject, capacity: int) -> None:
        event_id = data.draw(st.sampled_from(self.ids))
        model = self.models[event_id]

        def call() -> events.Event:
            change = build(EventChange, capacity=capacity)
            return events.update(self.store, event_id, change, actor=ACTOR, now=EARLY)

        needs = max((1 + s.guests for s in model.waitlist()), default=0)
        if capacity < model.taken() or capacity < needs:
            self.invalid(call, "capacity")
            return
        model.capacity = capacity
        model.promote()
        assert call().capacity == capacity

    # --- invariants ------------------------------------------------------------------

    @invariant()
    def seats_match_and_never_overflow(self) -> None:
        for event_id, model in self.models.items():
            seats = signups.seats(self.store, event_id)
            assert seats.taken <= seats.capacity
            assert (seats.capacity, seats.taken, seats.waitlisted) == (
                model.capacity, model.taken(), len(model.waitlist()),
            )  # fmt: skip

    @invariant()
    def nothing_is_lost_and_the_queue_is_in_order(self) -> None:
        for event_id, model in self.models.items():
            rows = self.store.query(
                "SELECT member_id, guests, status FROM signups WHERE event_id = ? ORDER BY id",
                (event_id,),
            )
            stored = [(r["member_id"], r["guests"], r["status"]) for r in rows]
            assert stored == [(s.member, s.guests, s.status) for s in model.signups]
            waiting = [
                a for a in signups.of_event(self.store, event_id) if a.status == "waitlisted"
            ]
            assert [a.position for a in waiting] == list(range(1, len(waiting) + 1))
            assert [a.signup_id for a in waiting] == sorted(a.signup_id for a in waiting)

    @invariant()
    def a_head_that_fits_has_been_promoted(self) -> None:
        for event_id in self.models:
            seats = signups.seats(self.store, event_id)
            waiting = [
                a for a in signups.of_event(self.store, event_id) if a.status == "waitlisted"
            ]
            if waiting:
                assert 1 + waiting[0].guests > seats.free

    @invariant()
    def promotions_happened_in_queue_order_with_a_notification_each(self) -> None:
        for event_id, model in self.models.items():
            rows = self.store.query(
                "SELECT member_id FROM notifications WHERE kind = 'signup.promoted'"
                " AND event_id = ? ORDER BY id",
                (event_id,),
            )
            assert [r["member_id"] for r in rows] == model.promoted


Signups.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSignups = Signups.TestCase


def test_the_model_agrees_with_a_hand_worked_case() -> None:
    """The model itself: strict order, and the head that does not fit holds the queue."""
    model = Model(capacity=3, max_guests=2)
    model.signups += [
        Place("a", 1, "confirmed"),
        Place("b", 2, "waitlisted"),
        Place("c", 0, "waitlisted"),
    ]
    assert model.promote() == ()
    model.signups[0].status = "cancelled"
    assert model.promote() == ("b",)
    assert model.free() == 0
