"""The commands as a user runs them: real processes, real brokers."""

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from hub_server.demo import free_port
from hublink.link import Link
from hublink.topics import ANY
from tests.conftest import mqtt_config
from tests.helpers.collect import Collector
from tests.helpers.dashboard import csrf_in
from tests.helpers.door_hardware import MOCK_HARDWARE_TOML, SITE_KEY_TOML
from tests.helpers.waiting import wait_until

BIN = Path(sys.executable).parent


class Output:
    """Reads a process's output lines in the background."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        with stream:  # closed at end of output
            for line in stream:
                self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return True
        return False


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)


def test_hubtap_lists_its_commands():
    result = run(str(BIN / "hubtap"), "--help")
    assert result.returncode == 0
    for command in ("server", "broker", "demo"):
        assert command in result.stdout


@pytest.mark.parametrize("script", ["hubtap-door", "hubtap-kiosk"])
def test_a_missing_config_file_exits_2_with_its_name(script, tmp_path):
    result = run(str(BIN / script), "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2
    assert f"config file not found: {tmp_path / 'nope.toml'}" in result.stderr


def test_an_invalid_config_names_every_problem(tmp_path):
    path = tmp_path / "hub.toml"
    path.write_text('[site]\nid = "bad id"\n[mqtt]\nport = 0\ncolour = "red"\n')
    result = run(str(BIN / "hubtap"), "server", "--config", str(path))
    assert result.returncode == 2
    assert f"site.id ({path})" in result.stderr
    assert f"mqtt.port ({path})" in result.stderr
    assert f"mqtt.colour ({path}): unknown key" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("script", "section"), [("hubtap-door", "door"), ("hubtap-kiosk", "kiosk")]
)
def test_devices_report_availability_and_stop_cleanly(
    script, section, embedded_broker, tmp_path, topics
):
    config = tmp_path / f"{section}.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[site]\nid = "testsite"\n{SITE_KEY_TOML}'
        f'[{section}]\nid = "front"\n'
        f"[mqtt]\nport = {embedded_broker.port}\n"
        + (MOCK_HARDWARE_TOML if section == "door" else "")
    )
    seen = Collector()
    watcher = Link(mqtt_config(embedded_broker.port), topics, client_id="watcher")
    availability = getattr(topics, f"{section}_availability")
    watcher.subscribe(availability(ANY), seen)
    with watcher:
        process = subprocess.Popen([str(BIN / script), "--config", str(config)])
        try:
            assert seen.wait_until(lambda d: [x.message.status for x in d] == ["online"], 20)
            assert seen.deliveries[0].ids == {f"{section}_id": "front"}
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(20) == 0
        assert seen.wait_until(lambda d: d[-1].message.status == "offline", 10)
    assert (tmp_path / "outbox.sqlite3").exists()


def test_broker_refuses_a_port_in_use(embedded_broker):
    result = run(str(BIN / "hubtap"), "broker", "--port", str(embedded_broker.port))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{embedded_broker.port}" in result.stdout


def test_demo_starts_the_system_and_ctrl_c_stops_every_process(tmp_path):
    port = free_port()
    no_display = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen(
        [str(BIN / "hubtap"), "demo", "--dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=no_display,
    )
    screens = tmp_path / "kiosk-screens"
    output = Output(process)
    try:
        assert output.wait_for("Ready.", 60), "".join(output.seen)
        arrived = "occupancy: site 1/12"
        assert any(arrived in line for line in output.seen) or output.wait_for(arrived, 30)
        overview, events_page, rooms_page = demo_dashboard(
            "".join(output.seen), "/", "/events", "/bookings"
        )
        space = public_json("".join(output.seen), "SpaceAPI")
        # the kiosk follows the front door: Astrid's tap was greeted, the unknown card refused
        assert wait_until((screens / "badge.png").exists, 30)
        assert wait_until((screens / "denied.png").exists, 30)
    finally:
        process.send_signal(signal.SIGINT)
        status = process.wait(30)
    assert output.wait_for("stopped every process", 5), "".join(output.seen)
    text = "".join(output.seen)
    assert status == 0, text
    assert f"broker          embedded MQTT broker (amqtt)   127.0.0.1:{port}" in text
    assert "hub server" in text
    assert "hub hub: online" in text
    assert "door front: card …e5f6 granted (member) m-astrid" in text
    assert "occupancy: site 1/12 green; Campfire circle 1/12 green" in text
    assert "door front: card …0001 denied (unknown_credential)" in text
    assert "door front: online" in text
    # the week's workshops reach the kiosks with their seats (Astrid and a colleague at yoga)
    assert "seeded event: Forest yoga" in text
    assert "events/upcoming: Map reading for beginners 0/6; Forest yoga 2/10" in text
    assert "kiosk entrance: online" in text
    assert f"offscreen: screenshots in {screens}" in text
    child_pids = [
        int(line.split("(pid ")[1].split(",")[0]) for line in text.splitlines() if "(pid " in line
    ]
    assert len(child_pids) == 4  # broker, hub server, door, kiosk: each its own process
    for pid in child_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert (tmp_path / "door" / "outbox.sqlite3").exists()
    assert "Campfire circle" in overview  # the dashboard the demo printed, signed in
    assert "Astrid Demo" in overview  # who is in: the member whose card was granted
    assert "Forest yoga" in events_page  # the seeded week of workshops
    assert "Lookout room" in rooms_page  # the bookable room and its booking
    assert space["space"] == "Forest Hub"  # SpaceAPI, with Astrid counted and no name
    assert space["sensors"]["people_now_present"][-1]["value"] == 1
    assert "Astrid" not in json.dumps(space)


def demo_dashboard(printed: str, *paths: str) -> list[str]:
    """Sign in to the dashboard with the login the demo printed; the pages at ``paths``."""
    found = re.search(
        r"Dashboard: (http://\S+) — sign in as '(\S+)' with the password '(\S+)'", printed
    )
    assert found, printed
    base, username, password = found.groups()
    with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as client:
        form = client.get("/login")
        answer = client.post(
            "/login", data={"username": username, "password": password, "csrf": csrf_in(form.text)}
        )
        assert answer.status_code == 200, answer.text
        return [client.get(path).raise_for_status().text for path in paths]


def public_json(printed: str, label: str) -> Any:
    """The JSON document at the address the demo printed after ``label:``, fetched unsigned."""
    found = re.search(rf"{label}: (http://\S+)", printed)
    assert found, printed
    return httpx.get(found.group(1), timeout=10).raise_for_status().json()


def test_an_unwritable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    config = tmp_path / "door.toml"
    config.write_text(
        f'data_dir = "{blocker}"\n[site]\nid = "s"\n{SITE_KEY_TOML}[door]\nid = "front"\n'
        + MOCK_HARDWARE_TOML
    )
    result = run(str(BIN / "hubtap-door"), "--config", str(config))
    assert result.returncode == 1
    assert f"cannot open outbox {blocker}/outbox.sqlite3" in result.stderr
    assert "Traceback" not in result.stderr
