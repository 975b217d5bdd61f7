"""``hubtap demo``: the whole system on one machine with embedded defaults.

Runs every part as its own process, as production does, and prints what
runs where. Parts are added here as they land.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hub_server import cards, doors, kiosks, members, organisations, places, tokens, users
from hub_server.availability import AvailabilityBoard, Device
from hub_server.config import CommunitySection
from hub_server.demo_community import seed_community
from hub_server.errors import HubError
from hub_server.models import CardIn, DoorIn, KioskIn, MemberIn, OrganisationIn, ZoneIn, build
from hub_server.store import Store
from hublink.config import MqttConfig
from hublink.link import Delivery, Link
from hublink.messages import AccessEvent, DoorEvent, Occupancy, UpcomingEvents, utcnow
from hublink.runtime import stop_event_on_signals
from hublink.topics import Topics

SITE_ID = "demo"
TIMEZONE = "Europe/Stockholm"
DOOR, DOOR_ID = "door", "front"
KIOSK, KIOSK_ID = "kiosk", "entrance"
DEFAULT_PORT = 1883
START_TIMEOUT_S = 20.0

DEMO_CARDS: tuple[tuple[str, str, str, str], ...] = (
    ("04A1B2C3D4E5F6", "m-astrid", "Astrid", "member"),
    ("04B0B1B2B3B4B5", "m-bjorn", "Björn", "member"),
    ("0A0B0C0D", "m-sigrid", "Sigrid", "admin"),
)
"""Card UID, member id, first name and role of the demo's members."""
DEMO_ZONE = ("campfire", "Campfire circle", 12)
UNKNOWN_CARD = "04DEADBEEF0001"


class DemoError(HubError):
    """The demo cannot start one of its parts."""


@dataclass
class Part:
    """One process of the demo."""

    name: str
    what: str
    where: str
    process: subprocess.Popen[bytes]
    log_path: Path


def free_port(host: str = "127.0.0.1", kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A TCP (or, with ``kind=SOCK_DGRAM``, UDP) port nothing uses right now."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if ``port`` can be bound on ``host``."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_listening(port: int, timeout: float, host: str = "127.0.0.1") -> bool:
    """Wait until something accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
        except OSError:
            time.sleep(0.1)
        else:
            return True
    return False


def write_config(
    workdir: Path,
    name: str,
    port: int,
    device: tuple[str, str] | None = None,
    extra: str = "",
    *,
    site_key: str | None = None,
) -> Path:
    """A demo process's configuration file; ``device`` is its section and id."""
    path = workdir / f"{name}.toml"
    key = f'key = "{site_key}"\n' if site_key else ""
    text = (
        f'log_level = "INFO"\ndata_dir = "{workdir / name}"\n\n'
        f'[site]\nid = "{SITE_ID}"\n{key}\n[mqtt]\nhost = "127.0.0.1"\nport = {port}\n'
    )
    if device is not None:
        text += f'\n[{device[0]}]\nid = "{device[1]}"\n'
    path.write_text(text + extra)
    return path


def demo_site_key(workdir: Path) -> str:
    """The demo site's secret key, made once per demo folder (owner-only file)."""
    path = workdir / "site.key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def door_hardware(reader_port: int) -> str:
    """The demo door's hardware: mock GPIO pins and the nfcpy UDP reader on ``reader_port``."""
    return (
        '\n[gpio]\npin_factory = "mock"\n'
        '\n[lock]\nkind = "gpio"\npin = 17\nunlock_s = 3\n'
        "\n[door_contact]\npin = 27\n\n[exit_button]\npin = 22\n"
        '\n[feedback]\nkind = "gpio"\ngreen_pin = 5\nred_pin = 6\nbuzzer_pin = 13\n'
        f'\n[reader]\nkind = "nfc"\npath = "udp:127.0.0.1:{reader_port}"\ntargets = ["106A"]\n'
    )


def _spawn(workdir: Path, name: str, what: str, where: str, command: list[str]) -> Part:
    log_path = workdir / f"{name.replace(' ', '-')}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and commands)
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops parts in order
        )
    return Part(name, what, where, process, log_path)


def _script(name: str) -> str:
    """A console script installed beside this interpreter."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise DemoError(f"{path} is missing: install hubtap (make demo does)")
    return str(path)


def run_demo(workdir: Path, port: int | None = None) -> int:
    """Start the demo, print what runs where, run until Ctrl-C; return the exit status."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if port is None:
        port = DEFAULT_PORT if port_is_free(DEFAULT_PORT) else free_port()
    stop = stop_event_on_signals()
    site_key = demo_site_key(workdir)
    parts: list[Part] = []
    hubtap = [sys.executable, "-m", "hub_server"]
    try:
        broker_command = [*hubtap, "broker", "--port", str(port)]
        parts.append(_spawn(workdir, "broker", "embedded MQTT broker (amqtt)",
                            f"127.0.0.1:{port}", broker_command))  # fmt: skip
        if not wait_listening(port, START_TIMEOUT_S):
            return _fail(parts, f"the broker did not start listening on port {port}")
        http_port = free_port()
        hub = write_config(workdir, "hub", port, site_key=site_key, extra=hub_extra(http_port))
        access = seed_hub(workdir / "hub", bytes.fromhex(site_key))
        parts.append(_spawn(workdir, "hub server", "hubtap server", f"config {hub}",
                            [*hubtap, "server", "--config", str(hub)]))  # fmt: skip
        reader_port = free_port(kind=socket.SOCK_DGRAM)
        door = write_config(workdir, DOOR, port, (DOOR, DOOR_ID), door_hardware(reader_port),
                            site_key=site_key)  # fmt: skip
        parts.append(_spawn(workdir, f"{DOOR} {DOOR_ID}", "hubtap-door", f"config {door}",
                            [_script("hubtap-door"), "--config", str(door)]))  # fmt: skip
        kiosk = write_config(workdir, KIOSK, port, (KIOSK, KIOSK_ID), KIOSK_EXTRA)
        kiosk_command, kiosk_where = kiosk_invocation(kiosk, workdir / "kiosk-screens")
        parts.append(_spawn(workdir, f"{KIOSK} {KIOSK_ID}", "hubtap-kiosk", kiosk_where,
                            kiosk_command))  # fmt: skip
        _print_parts(parts, workdir)
        print(
            f"Dashboard: http://127.0.0.1:{http_port}/ — sign in as {access.username!r} "
            f"with the password {access.password!r}\n"
            f"HTTP API: http://127.0.0.1:{http_port}/api/v1/ — try\n"
            f"  curl -H 'Authorization: Bearer {access.token}' "
            f"http://127.0.0.1:{http_port}/api/v1/occupancy"
            f"\nSpaceAPI: http://127.0.0.1:{http_port}/spaceapi.json (public)",
            flush=True,
        )
        return _watch(parts, port, stop, reader_port)
    except DemoError as err:
        return _fail(parts, str(err))
    finally:
        _stop_parts(parts)
        print("hubtap demo: stopped every process.", flush=True)


KIOSK_EXTRA = (
    f'title = "Forest Hub"\ndoor_id = "{DOOR_ID}"\ntimezone = "{TIMEZONE}"\n'
    "\n[display]\nfullscreen = false\nwidth = 800\nheight = 480\n"
)
"""The demo kiosk follows the front door, in a window of the smaller touchscreen's size."""


def kiosk_invocation(config: Path, screens: Path) -> tuple[list[str], str]:
    """The kiosk's command: a window where there is a display, else offscreen with
    screenshots; and where to look at it."""
    command = [_script("hubtap-kiosk"), "--config", str(config)]
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return command, "a window on this display"
    return (
        [*command, "--offscreen", "--screenshots", str(screens)],
        f"offscreen: screenshots in {screens}",
    )


def hub_extra(http_port: int) -> str:
    """The demo hub's own settings: its dashboard and HTTP API on ``http_port``, and who
    the space is for SpaceAPI."""
    return f'\n[hub]\ntimezone = "{TIMEZONE}"\n\n[http]\nport = {http_port}\n{DEMO_SPACEAPI}'


DEMO_SPACEAPI = f"""
[spaceapi]
space = "Forest Hub"

[spaceapi.contact]
email = "hello@forest-hub.example"

[spaceapi.location]
address = "Skogsstigen 1, 123 45 Skogsby, Sweden"
lat = 59.3293
lon = 18.0686
country_code = "SE"

[spaceapi.areas]
{DEMO_ZONE[0]} = 48
"""
"""The demo space's public details (``/spaceapi.json``)."""


@dataclass(frozen=True)
class DemoAccess:
    """How to get into the demo hub: an API token and a dashboard login."""

    token: str
    username: str
    password: str


DEMO_OPERATOR = "demo"
DEMO_ORGANISATION = "Forest Collective"


def seed_hub(data_dir: Path, site_key: bytes) -> DemoAccess:
    """Seed the demo hub (once per demo folder); the demo's API token and dashboard login.

    The kiosk is registered in a folder seeded before kiosks were, too, and the
    week's workshops are added again whenever none are coming up.
    """
    with Store.in_folder(data_dir) as store:
        access = _seed_people(store, data_dir, site_key)
        for title in seed_community(store, CommunitySection(), TIMEZONE, utcnow()):
            print(f"  seeded event: {title}", flush=True)
        return access


def _seed_people(store: Store, data_dir: Path, site_key: bytes) -> DemoAccess:
    """The zone, door, kiosk, members, cards and logins (once per demo folder)."""
    actor = "demo"
    token_file = data_dir / "api-token"
    password_file = data_dir / "dashboard-password"
    if not any(kiosk.id == KIOSK_ID for kiosk in kiosks.all_kiosks(store)):
        kiosks.add(store, build(KioskIn, id=KIOSK_ID, name="Entrance kiosk"), actor)
    if doors.door_ids(store):
        return DemoAccess(
            token_file.read_text().strip(),
            DEMO_OPERATOR,
            password_file.read_text().strip(),
        )
    zone_id, zone_name, capacity = DEMO_ZONE
    places.add_zone(store, build(ZoneIn, id=zone_id, name=zone_name, capacity=capacity), actor)
    doors.add(store, build(DoorIn, id=DOOR_ID, name="Front door", zone_id=zone_id), actor)
    organisations.add(store, build(OrganisationIn, name=DEMO_ORGANISATION), actor)
    for uid, member_id, first_name, role in DEMO_CARDS:
        member = build(
            MemberIn,
            id=member_id,
            first_name=first_name,
            last_name="Demo",
            role=role,
            organisation=DEMO_ORGANISATION,
        )
        members.add(store, member, actor)
        cards.add(store, site_key, build(CardIn, member_id=member_id, uid=uid), actor)
    password = secrets.token_urlsafe(12)
    users.add(store, DEMO_OPERATOR, password, "operator", actor, display_name="Demo operator")
    token = tokens.create(store, "demo", actor)
    for path, secret in ((token_file, token), (password_file, password)):
        path.touch(mode=0o600)
        path.write_text(secret + "\n")
    return DemoAccess(token, DEMO_OPERATOR, password)


def describe_event(door_id: str, event: DoorEvent) -> str:
    """One line for a door event, as the demo prints it."""
    if isinstance(event, AccessEvent):
        verdict = "granted" if event.granted else "denied"
        who = f" {event.member_id}" if event.member_id else ""
        timing = event.timing
        took = (
            ""
            if timing is None
            else f", read {timing.read_ms:.1f} ms + decided {timing.decide_ms:.2f} ms"
        )
        return f"  door {door_id}: card …{event.card_hint} {verdict} ({event.reason}){who}{took}"
    return (
        f"  door {door_id}: {event.kind} {event.model_dump_json(exclude={'v', 'id', 'ts', 'kind'})}"
    )


def _show_door_events(delivery: Delivery[DoorEvent]) -> None:
    print(describe_event(delivery.ids["door_id"], delivery.message), flush=True)


def describe_occupancy(occupancy: Occupancy) -> str:
    """One line for the occupancy message, as the demo prints it."""
    zones = ", ".join(f"{z.name} {z.count}/{z.capacity} {z.level}" for z in occupancy.zones)
    site = occupancy.site
    return f"  occupancy: site {site.count}/{site.capacity} {site.level}; {zones}"


def _show_occupancy(delivery: Delivery[Occupancy]) -> None:
    print(describe_occupancy(delivery.message), flush=True)


def describe_upcoming(upcoming: UpcomingEvents) -> str:
    """One line for the upcoming events the kiosks show, as the demo prints it."""
    seats = "; ".join(
        f"{event.title} {event.taken}/{event.capacity}"
        + (f" +{event.waitlist} waiting" if event.waitlist else "")
        for event in upcoming.events
    )
    return f"  events/upcoming: {seats or 'none'}"


def _show_upcoming(delivery: Delivery[UpcomingEvents]) -> None:
    print(describe_upcoming(delivery.message), flush=True)


def _tap(uid: str, reader_port: int) -> None:
    subprocess.run(  # noqa: S603  (our own command)
        [_script("hubtap-card"), "tap", uid, "--port", str(reader_port)],
        check=False,
        capture_output=True,
        timeout=30,
    )


def _watch(parts: list[Part], port: int, stop: threading.Event, reader_port: int) -> int:
    expected = {Device("hub", "hub"), Device(DOOR, DOOR_ID), Device(KIOSK, KIOSK_ID)}
    online: set[Device] = set()
    all_online = threading.Event()

    def on_change(device: Device, status: str) -> None:
        print(f"  {device.kind} {device.id}: {status}", flush=True)
        (online.add if status == "online" else online.discard)(device)
        if expected <= online:
            all_online.set()

    board = AvailabilityBoard(on_change)
    topics = Topics(SITE_ID)
    monitor = Link(MqttConfig(port=port), topics, client_id="hubtap-demo-monitor")
    board.attach(monitor)
    monitor.subscribe(topics.door_event(DOOR_ID), _show_door_events, dedupe=True)
    monitor.subscribe(topics.occupancy(), _show_occupancy)
    monitor.subscribe(topics.events_upcoming(), _show_upcoming)
    list_applied = threading.Event()
    monitor.subscribe(
        topics.door_state(DOOR_ID),
        lambda d: list_applied.set() if d.message.acl_version >= 1 else None,
    )
    with monitor:
        if not all_online.wait(START_TIMEOUT_S) and not stop.is_set():
            missing = ", ".join(sorted(f"{d.kind} {d.id}" for d in expected - online))
            return _fail(parts, f"not online: {missing}")
        print(f"Members on the hub, whose cards door {DOOR_ID} lists:")
        for uid, member, first_name, role in DEMO_CARDS:
            print(f"  card {uid:<16} {member:<10} {first_name:<8} {role}")
        print(
            f"Door {DOOR_ID} polls a simulated NFC reader; the demo taps two cards now.\n"
            f"Tap one yourself with\n"
            f"  {_script('hubtap-card')} tap {DEMO_CARDS[0][0]} --port {reader_port}",
            flush=True,
        )
        if not list_applied.wait(START_TIMEOUT_S) and not stop.is_set():
            return _fail(parts, f"door {DOOR_ID} did not take up its access list")
        for uid in (DEMO_CARDS[0][0], UNKNOWN_CARD):
            _tap(uid, reader_port)
        print("Ready. Press Ctrl-C to stop.", flush=True)
        while not stop.wait(0.5):
            for part in parts:
                if part.process.poll() is not None:
                    return _fail(parts, f"{part.name} exited with status {part.process.returncode}")
    return 0


def _fail(parts: list[Part], why: str) -> int:
    print(f"hubtap demo: {why}. Logs:", file=sys.stderr)
    for part in parts:
        print(f"  {part.log_path}", file=sys.stderr)
    return 1


def _print_parts(parts: list[Part], workdir: Path) -> None:
    print(f"hubtap demo — site '{SITE_ID}', files in {workdir}", flush=True)
    for part in parts:
        print(
            f"  {part.name:<15} {part.what:<30} {part.where}  (pid {part.process.pid}, "
            f"log {part.log_path.name})",
            flush=True,
        )
    print("Live device status:", flush=True)


def _stop_parts(parts: list[Part]) -> None:
    for part in reversed(parts):  # the broker last, so the others can say offline
        if part.process.poll() is None:
            os.kill(part.process.pid, signal.SIGTERM)
            try:
                part.process.wait(10)
            except subprocess.TimeoutExpired:
                part.process.kill()
                part.process.wait()
