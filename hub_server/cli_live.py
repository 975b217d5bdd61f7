"""``hubtap enrol``, ``hubtap unlock``, ``hubtap lockdown``: acting on doors now.

``enrol`` waits for the running server to see the tap; ``unlock`` and
``lockdown`` send their commands over the broker themselves (with the hub's
broker account, under a client id of their own) and wait for the doors'
answers.
"""

import argparse
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from hub_server import commands, doors, enrolment, members
from hub_server.cli_common import Admin, Failure, add_command
from hublink.link import Delivery, Link
from hublink.messages import CommandResult
from hublink.topics import ANY, Topics

if TYPE_CHECKING:
    from hub_server.cli_common import Commands

CONNECT_TIMEOUT_S = 10.0


def add_commands(commands_: "Commands") -> None:
    """Register ``hubtap enrol``, ``hubtap unlock`` and ``hubtap lockdown``."""
    enrol = add_command(
        commands_, "enrol", _enrol, "attach the next unknown card tapped at a door to a member"
    )
    enrol.add_argument("member", metavar="MEMBER", help="member id")
    enrol.add_argument("--door", required=True, help="the door whose reader the card is tapped on")
    enrol.add_argument(
        "--timeout", type=float, default=120, help="seconds to wait for the tap (default 120)"
    )
    enrol.add_argument("--label", default="", help='a label for the card ("blue fob")')

    unlock = add_command(commands_, "unlock", _unlock, "unlock a door once, for a while")
    unlock.add_argument("door", metavar="DOOR", help="door id")
    unlock.add_argument(
        "--seconds", type=float, help="how long (default: the door's own unlock time)"
    )

    lockdown = add_command(
        commands_, "lockdown", _lockdown, "lock doors down (only admin cards open) or end it"
    )
    lockdown.add_argument(
        "state", metavar="STATE", choices=("on", "off"), help="on: lock down; off: back to normal"
    )
    lockdown.add_argument(
        "--door", action="append", metavar="DOOR", help="only this door (repeatable; default all)"
    )


def _enrol(admin: Admin, args: argparse.Namespace) -> int:
    member = members.get(admin.store, args.member)
    started = enrolment.start(
        admin.store, member.id, args.door, admin.actor, timeout_s=args.timeout, label=args.label
    )
    print(
        f"Tap {member.first_name}'s new card on door {args.door}'s reader within "
        f"{args.timeout:.0f} s …",
        flush=True,
    )
    done = enrolment.wait(admin.store, started.id)
    if done.status == "done":
        print(f"card …{done.hint} enrolled to {member.first_name} {member.last_name} ({member.id})")
        return 0
    if done.status == "cancelled":
        raise Failure(f"another enrolment at door {args.door} took over")
    raise Failure(
        f"no new card was tapped at door {args.door} within {args.timeout:.0f} s "
        "(the hub server must be running to see the tap)"
    )


def _unlock(admin: Admin, args: argparse.Namespace) -> int:
    return _send(admin, [args.door], "unlock", args.seconds)


def _lockdown(admin: Admin, args: argparse.Namespace) -> int:
    targets = args.door or doors.door_ids(admin.store)
    if not targets:
        raise Failure("no doors are registered")
    return _send(admin, targets, "lockdown" if args.state == "on" else "normal", None)


def _send(admin: Admin, door_ids: list[str], action: commands.Action, seconds: float | None) -> int:
    for door_id in door_ids:
        doors.get(admin.store, door_id)  # an unknown door fails before anything is sent
    with _bus(admin) as (link, answers):
        sent = {
            door_id: commands.issue(
                admin.store, link, door_id, action, admin.actor, duration_s=seconds
            )
            for door_id in door_ids
        }
        answers.wait_for({c.id for c in sent.values()}, commands.COMMAND_TTL_S + 2)
    failed = 0
    for door_id, command in sent.items():
        result = answers.results.get(command.id)
        if result is None:
            failed += 1
            print(f"door {door_id}: no answer within {commands.COMMAND_TTL_S:.0f} s (offline?)")
        elif not result.ok:
            failed += 1
            detail = f" ({result.detail})" if result.detail else ""
            print(f"door {door_id}: refused: {result.reason}{detail}")
        else:
            print(f"door {door_id}: {result.reason}")
    return 1 if failed else 0


class _Answers:
    """Command results as they arrive, by command id."""

    def __init__(self) -> None:
        self.results: dict[str, CommandResult] = {}
        self._cond = threading.Condition()

    def add(self, delivery: Delivery[CommandResult]) -> None:
        with self._cond:
            self.results[delivery.message.command_id] = delivery.message
            self._cond.notify_all()

    def wait_for(self, ids: set[str], timeout: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: ids <= self.results.keys(), timeout)


@contextmanager
def _bus(admin: Admin) -> Iterator[tuple[Link, _Answers]]:
    config = admin.config
    mqtt = config.mqtt.model_copy(update={"client_id": None})  # never the server's id
    topics = Topics(config.site.id)
    link = Link(mqtt, topics, client_id=f"hubtap-cli-{os.getpid()}")
    answers = _Answers()
    link.subscribe(topics.door_command_result(ANY), answers.add)
    with link:
        if not link.wait_connected(CONNECT_TIMEOUT_S):
            raise Failure(f"cannot reach the broker at {mqtt.host}:{mqtt.port}")
        yield link, answers
