"""Door hardware sections for tests: mock pins and a reader chosen by the test."""

from typing import Any

SITE_KEY_HEX = "5e" * 32
"""The site key every test door hashes cards with."""
SITE_KEY = bytes.fromhex(SITE_KEY_HEX)
SITE_KEY_TOML = f'key = "{SITE_KEY_HEX}"\n'
"""The ``key`` line of a ``[site]`` section."""

MOCK_PINS_TOML = '[gpio]\npin_factory = "mock"\n[lock]\nkind = "gpio"\npin = 17\n'
MOCK_HARDWARE_TOML = MOCK_PINS_TOML + '[reader]\nkind = "mock"\n'
MOCK_HARDWARE: dict[str, Any] = {
    "gpio": {"pin_factory": "mock"},
    "lock": {"kind": "gpio", "pin": 17},
    "reader": {"kind": "mock"},
}


def udp_reader_toml(port: int, retap_gap_s: float = 1.0) -> str:
    """A ``[reader]`` polling the card emulator on ``port``."""
    return (
        f'[reader]\nkind = "nfc"\npath = "udp:127.0.0.1:{port}"\ntargets = ["106A"]\n'
        f"poll_interval_s = 0.02\nretap_gap_s = {retap_gap_s}\n"
    )
