"""``hubtap-card``: put an emulated card on a simulated (nfcpy UDP) reader."""

import argparse
import sys

from hardware.emulator import DEFAULT_PORT, CardEmulator, EmulatedCard
from hardware.errors import HardwareError
from hardware.taps import CardKind


def build_parser() -> argparse.ArgumentParser:
    """The ``hubtap-card`` command line."""
    parser = argparse.ArgumentParser(prog="hubtap-card", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    tap = commands.add_parser(
        "tap",
        help="hold a card on a simulated reader",
        description="Hold a card with UID (hex: 4, 7 or 10 bytes ISO 14443A; 8 bytes FeliCa) "
        "on the reader that polls udp:HOST:PORT.",
    )
    tap.add_argument("uid", help="card UID in hex, e.g. 04A1B2C3D4E5F6")
    tap.add_argument("--port", type=int, default=DEFAULT_PORT, help="the reader's UDP port")
    tap.add_argument("--host", default="127.0.0.1", help="address to emulate on")
    tap.add_argument(
        "--hold",
        type=float,
        default=2.5,
        help="seconds the card stays on (over 2.2: nfcpy's UDP reader waits 1 s per empty poll)",
    )
    tap.add_argument(
        "--kind", choices=[CardKind.ISO14443A, CardKind.FELICA], help="override the card type"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Emulate contactless cards for hubtap's simulated readers."""
    args = build_parser().parse_args(argv)
    try:
        card = EmulatedCard.parse(args.uid, CardKind(args.kind) if args.kind else None)
        commands = CardEmulator(args.host, args.port).hold(card, args.hold)
    except HardwareError as err:
        print(f"hubtap-card: {err}", file=sys.stderr)
        raise SystemExit(2) from err
    print(f"held {card.kind} {card.uid.hex().upper()} for {args.hold:g} s on "
          f"{args.host}:{args.port} ({commands} commands answered)")  # fmt: skip
