"""The kiosk's screens as a state machine: taps, touches, answers and time move it.

Everything arrives here — taps (from the followed door's events or the
kiosk's own reader), button presses and touches (from the Kivy screens),
the hub's answers and data (from the link) — and :meth:`KioskModel.view`
says what the screen shows now. Any thread may call in; ``on_change`` is
called after every change that alters the screen, and the UI redraws.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from hublink.messages import AgendaItem, KioskRequest, KioskResponse, utcnow
from kiosk import reasons
from kiosk.cache import Cache, StoredRequest
from kiosk.config import KioskSection
from kiosk.errors import KioskError
from kiosk.feeds import Feeds
from kiosk.flows import (
    BookingFlow,
    CancelSignupFlow,
    Context,
    Flow,
    GuestFlow,
    SignupFlow,
    Submit,
    Visitor,
    agenda_lines,
    free_rooms,
    open_events,
    signups,
)
from kiosk.i18n import Translator
from kiosk.idle_view import idle_view
from kiosk.views import AnswerView, BadgeView, Button, DeniedView, IdleView, ScreenView

log = logging.getLogger(__name__)

KEEP_REQUESTS = timedelta(days=7)
"""Answered or not, a request older than this is forgotten."""


class Sender(Protocol):
    """Sends a request to the hub through the durable outbox."""

    def send(self, request: KioskRequest) -> None:
        """Store ``request`` for delivery; :class:`KioskError` if it cannot be stored."""


@dataclass
class _Answer:
    request_id: str
    action: str
    state: Literal["waiting", "queued", "done", "refused"]
    message: str


Screen = Literal["idle", "badge", "denied", "flow", "answer"]


class KioskModel:
    """What the kiosk shows, and what it does when touched."""

    def __init__(
        self,
        settings: KioskSection,
        feeds: Feeds,
        cache: Cache,
        sender: Sender,
        translator: Translator,
        *,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.feeds = feeds
        self.cache = cache
        self.sender = sender
        self.t = translator
        self.zone = ZoneInfo(settings.timezone)
        self.clock = clock
        self.monotonic = monotonic
        self.on_change: Callable[[], None] = lambda: None
        """Called after every change; the screens set it (from any thread)."""
        self._listeners: list[Callable[[], None]] = []
        self.revision = 0
        self._lock = threading.RLock()
        self._screen: Screen = "idle"
        self._visitor: Visitor | None = None
        self._denied = ""
        self._flow: Flow | None = None
        self._answer: _Answer | None = None
        self._earlier: tuple[str, ...] = ()
        self._agenda: dict[str, tuple[AgendaItem, ...]] = {}
        self._today_requests: dict[str, str] = {}  # request id -> member id
        self._deadline: float | None = None
        self._minute = -1

    # --- inputs ------------------------------------------------------------

    def tap(self, credential: str | None, *, granted: bool | None, reason: str = "") -> None:
        """A card was tapped: at the followed door (``granted`` says what it decided) or
        at the kiosk's own reader (``granted`` None: the directory decides)."""
        entry = self.feeds.who(credential) if credential else None
        with self._lock:
            known = entry is not None or granted is True  # the hub checks again
            if (
                credential is not None
                and self._screen == "flow"
                and self._flow is not None
                and self._flow.card(credential, known)
            ):
                self._touched()
                self._changed()
                return
            self._flow, self._answer = None, None
            if granted is False or credential is None or (granted is None and entry is None):
                self._visitor = None
                self._denied = reasons.denied(reason or "unknown_credential", self.t)
                self._show("denied", self.settings.badge_s)
                return
            visitor = Visitor(
                credential,
                entry.member_id if entry else None,
                entry.first_name if entry else None,
                entry.host_first_name if entry else None,
            )
            self._visitor = visitor
            self._earlier = self._collect_earlier(visitor)
            self._show("badge", self.settings.badge_s)
        if visitor.member_id is not None and not visitor.guest and self.feeds.online:
            self._ask_today(visitor)

    def press(self, button: str) -> None:
        """A button on the current screen was pressed; a stale button changes nothing."""
        with self._lock:
            self._touched()
            if button not in enabled_buttons(self.view()):
                log.debug(
                    "ignoring %r: not an enabled button on the %s screen", button, self._screen
                )
                return
            if button == "done":
                self._idle()
            elif self._screen == "badge":
                self._press_badge(button)
            elif self._screen == "flow" and self._flow is not None:
                self._press_flow(button)
            elif self._screen == "answer" and button == "more" and self._visitor is not None:
                self._answer = None
                self._show("badge", self.settings.badge_s)
            self._changed()

    def touch(self) -> None:
        """The screen was touched: keep the current screen up longer."""
        with self._lock:
            self._touched()

    def answer(self, response: KioskResponse) -> None:
        """The hub answered a request (this run's or an earlier one's)."""
        with self._lock:
            member_id = self._today_requests.pop(response.request_id, None)
            if member_id is not None:
                if response.ok and response.agenda is not None:
                    self._agenda[member_id] = response.agenda
                    if self._visitor is not None and self._visitor.member_id == member_id:
                        self._changed()
                return
            on_screen = self._answer is not None and self._answer.request_id == response.request_id
            stored = self.cache.answer_request(
                response.request_id,
                response.ok,
                response.reason,
                dict(response.data),
                self.clock(),
                shown=on_screen,
            )
            if stored is None:
                log.info(
                    "answer to request %s, which this kiosk does not know", response.request_id
                )
                return
            if response.agenda is not None and stored.member_id is not None:
                self._agenda[stored.member_id] = response.agenda
            if on_screen and self._answer is not None:
                self._answer.state = "done" if response.ok else "refused"
                self._answer.message = self._word(stored)
                self._deadline = self.monotonic() + self.settings.result_s
            self._changed()

    def data_changed(self, what: str = "") -> None:
        """The hub's data (occupancy, events, directory) or the connection changed."""
        with self._lock:
            self._changed()

    def tick(self) -> None:
        """Called about once a second: timeouts, and the clock's minute."""
        with self._lock:
            if self._deadline is not None and self.monotonic() >= self._deadline:
                self._idle()
                self._changed()
            minute = int(self.clock().timestamp() // 60)
            if minute != self._minute:
                self._minute = minute
                self._changed()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every change too (besides :attr:`on_change`)."""
        self._listeners.append(listener)

    # --- output ------------------------------------------------------------

    @property
    def screen(self) -> Screen:
        """Which screen is up."""
        return self._screen

    def view(self) -> ScreenView:
        """The current screen's content."""
        with self._lock:
            if self._screen == "badge" and self._visitor is not None:
                return self._badge_view(self._visitor)
            if self._screen == "denied":
                return DeniedView(
                    title=self.t._("Sorry!"),
                    message=self._denied,
                    actions=(Button("done", self.t._("OK"), style="primary"),),
                )
            if self._screen == "flow" and self._flow is not None:
                return self._flow.view(self._context())
            if self._screen == "answer" and self._answer is not None:
                return self._answer_view(self._answer)
            return self.idle_view()

    def idle_view(self) -> IdleView:
        """The idle screen now."""
        return idle_view(
            self.feeds.snapshot(),
            self.clock(),
            self.zone,
            self.t,
            title=self.settings.title,
            waiting=self.cache.waiting(),
        )

    # --- housekeeping ------------------------------------------------------

    def forget_old_requests(self) -> int:
        """Drop requests older than :data:`KEEP_REQUESTS`; how many went."""
        return self.cache.forget_before(self.clock() - KEEP_REQUESTS)

    # --- internals ---------------------------------------------------------

    def _show(self, screen: Screen, seconds: float) -> None:
        self._screen = screen
        self._deadline = self.monotonic() + seconds
        self._changed()

    def _idle(self) -> None:
        self._screen, self._visitor, self._flow, self._answer = "idle", None, None, None
        self._deadline = None

    def _touched(self) -> None:
        if self._deadline is None:
            return
        seconds = {
            "badge": self.settings.badge_s,
            "denied": self.settings.badge_s,
            "flow": self.settings.flow_timeout_s,
            "answer": self.settings.result_s,
        }.get(self._screen, 0)
        self._deadline = max(self._deadline, self.monotonic() + seconds)

    def _changed(self) -> None:
        self.revision += 1
        self.on_change()
        for listener in self._listeners:
            listener()

    def _context(self) -> Context:
        assert self._visitor is not None
        member = self._visitor.member_id
        return Context(
            t=self.t,
            now=self.clock(),
            zone=self.zone,
            snapshot=self.feeds.snapshot(),
            visitor=self._visitor,
            agenda=self._agenda.get(member, ()) if member else (),
        )

    def _press_badge(self, button: str) -> None:
        flows: dict[str, Callable[[], Flow]] = {
            "signup": SignupFlow,
            "cancel_signup": CancelSignupFlow,
            "guest": GuestFlow,
            "booking": BookingFlow,
        }
        if button == "checkout":
            self._submit(Submit("check_out", {}, {"name": self._first_name()}))
        elif button in flows and self._visitor is not None and not self._visitor.guest:
            self._flow = flows[button]()
            self._show("flow", self.settings.flow_timeout_s)

    def _press_flow(self, button: str) -> None:
        assert self._flow is not None
        outcome = self._flow.press(button, self._context())
        if outcome == "leave":
            self._flow = None
            self._show("badge", self.settings.badge_s)
        elif isinstance(outcome, Submit):
            self._flow = None
            self._submit(outcome)

    def _submit(self, submit: Submit) -> None:
        visitor = self._visitor
        assert visitor is not None
        request = KioskRequest(action=submit.action, credential=visitor.credential,
                               params=submit.params)  # fmt: skip
        values = {**submit.values, "name": self._first_name()}
        stored = StoredRequest(request.id, submit.action, visitor.member_id, values, self.clock())
        try:
            self.cache.add_request(stored)
            self.sender.send(request)
        except KioskError as err:
            log.error("could not store a %s request: %s", submit.action, err)
            message = self.t._("Your request could not be saved — please ask a host.")
            self._answer = _Answer(request.id, submit.action, "refused", message)
        else:
            online = self.feeds.online
            self._answer = _Answer(
                request.id,
                submit.action,
                "waiting" if online else "queued",
                self.t._("Sending…")
                if online
                else self.t._(
                    "The hub is out of reach. Your request is saved and goes out as soon as it "
                    "is back; you will see the answer the next time you tap your card."
                ),
            )
        self._show("answer", self.settings.flow_timeout_s)

    def _ask_today(self, visitor: Visitor) -> None:
        request = KioskRequest(action="today", credential=visitor.credential)
        assert visitor.member_id is not None
        with self._lock:
            self._today_requests[request.id] = visitor.member_id
            if len(self._today_requests) > 100:  # answers that never came
                self._today_requests.pop(next(iter(self._today_requests)))
        try:
            self.sender.send(request)
        except KioskError as err:
            log.warning("could not ask for a member's day: %s", err)

    def _collect_earlier(self, visitor: Visitor) -> tuple[str, ...]:
        if visitor.member_id is None:
            return ()
        answers = self.cache.unshown_answers(visitor.member_id)
        self.cache.mark_shown([a.id for a in answers])
        return tuple(self._word(a) for a in answers)

    def _word(self, stored: StoredRequest) -> str:
        values: dict[str, object] = {**stored.values, **(stored.answer or {})}
        if "waitlist_position" in values:
            values["position"] = values["waitlist_position"]
        return reasons.answer(bool(stored.ok), stored.reason or "", self.t, **values)

    def _first_name(self) -> str:
        if self._visitor is None or self._visitor.first_name is None:
            return ""
        return self._visitor.first_name

    def _badge_view(self, visitor: Visitor) -> BadgeView:
        t = self.t
        agenda = self._agenda.get(visitor.member_id, ()) if visitor.member_id else ()
        greeting = (
            t._("Hej, {name}!").format(name=visitor.first_name)
            if visitor.first_name
            else t._("Welcome!")
        )
        subtitle = (
            t._("Guest of {host}").format(host=visitor.host_first_name)
            if visitor.host_first_name
            else ""
        )
        ctx = self._context()
        actions = [Button("checkout", t._("Check out"))]
        if not visitor.guest:
            actions += [
                Button("signup", t._("Sign up for an event"), enabled=bool(open_events(ctx))),
                Button("guest", t._("Register a guest")),
                Button("booking", t._("Book a room now"), enabled=bool(free_rooms(ctx))),
            ]
            if signups(agenda):
                actions.append(Button("cancel_signup", t._("Cancel a sign-up")))
        actions.append(Button("done", t._("Done"), style="primary"))
        snapshot = ctx.snapshot
        return BadgeView(
            greeting=greeting,
            subtitle=subtitle,
            agenda_heading=t._("Your plans")
            if agenda
            else t._("While you were away")
            if self._earlier
            else "",
            agenda=agenda_lines(agenda, self.clock(), self.zone, t),
            earlier=self._earlier,
            actions=tuple(actions),
            offline_text=""
            if snapshot.online
            else t._("Offline — requests are saved and sent later"),
        )

    def _answer_view(self, answer: _Answer) -> AnswerView:
        t = self.t
        titles = {"waiting": t._("One moment…"), "queued": t._("Saved"),
                  "done": t._("Done!"), "refused": t._("Sorry!")}  # fmt: skip
        actions: tuple[Button, ...] = (Button("done", t._("Done"), style="primary"),)
        if answer.state in ("done", "refused") and self._visitor is not None:
            actions = (Button("more", t._("Something else")), *actions)
        return AnswerView(
            title=titles[answer.state], message=answer.message, state=answer.state, actions=actions
        )


def enabled_buttons(view: ScreenView) -> set[str]:
    """The ids of the buttons a view shows enabled: the only presses it takes."""
    buttons = [*getattr(view, "options", ()), *getattr(view, "actions", ())]
    for row in getattr(view, "keys", ()):
        buttons.extend(row)
    return {b.id for b in buttons if b.enabled}
