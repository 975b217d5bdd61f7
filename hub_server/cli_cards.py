"""``hubtap cards``: attach cards to members by UID, revoke them, list them."""

import argparse
import re
from typing import TYPE_CHECKING, get_args

from hub_server import cards, members
from hub_server.cli_common import Admin, add_command, add_group, print_table, show_time
from hub_server.models import CardIn, CredentialKind, build

if TYPE_CHECKING:
    from hub_server.cli_common import Commands

_CARD_ID = re.compile(r"^[0-9]{1,7}$")
"""A card id: digits, fewer than a 4-byte UID's 8 hex digits."""


def add_commands(commands: "Commands") -> None:
    """Register ``hubtap cards …``."""
    group = add_group(commands, "cards", "members' cards (stored as keyed hashes, never UIDs)")

    add = add_command(group, "add", _add, "attach a card to a member by its UID")
    add.add_argument("member", metavar="MEMBER", help="member id")
    add.add_argument("uid", metavar="UID", help="the card's UID in hex, as a reader prints it")
    add.add_argument("--kind", choices=get_args(CredentialKind), help="card (default), fob, …")
    add.add_argument("--label", help="a note to tell a member's cards apart")

    revoke = add_command(group, "revoke", _revoke, "revoke a card: no door opens for it again")
    revoke.add_argument("card", metavar="CARD", help="card id (a number) or the card's UID (hex)")

    find = add_command(group, "list", _list, "list cards, newest first")
    find.add_argument("--member", metavar="MEMBER", help="only this member's cards")
    find.add_argument("--all", action="store_true", help="revoked cards too")


def _add(admin: Admin, args: argparse.Namespace) -> int:
    key = admin.site_key("cards add")
    values = {"member_id": args.member, "uid": args.uid, "kind": args.kind, "label": args.label}
    data = build(CardIn, **{k: v for k, v in values.items() if v is not None})
    card = cards.add(admin.store, key, data, admin.actor)
    print(f"card {card.id} (…{card.hint}) added to {card.member_id}")
    return 0


def _revoke(admin: Admin, args: argparse.Namespace) -> int:
    if _CARD_ID.fullmatch(args.card):
        card_id = int(args.card)
    else:
        card_id = cards.find_by_uid(admin.store, admin.site_key("cards revoke UID"), args.card).id
    card = cards.revoke(admin.store, card_id, admin.actor)
    print(f"card {card.id} (…{card.hint}) of {card.member_id} is revoked")
    return 0


def _list(admin: Admin, args: argparse.Namespace) -> int:
    if args.member is not None:
        members.get(admin.store, args.member)  # an unknown member is an error, not no cards
    found = cards.find(admin.store, member_id=args.member, include_revoked=args.all)
    zone = admin.zone
    print_table(
        ("id", "member", "card", "kind", "label", "status", "issued"),
        (
            (
                c.id,
                c.member_id,
                f"…{c.hint}",
                c.kind,
                c.label,
                c.status,
                show_time(c.issued_at, zone),
            )
            for c in found
        ),
    )
    return 0
