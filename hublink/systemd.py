"""Tell systemd how a service is doing (``Type=notify``, ``WatchdogSec=``).

The protocol is one datagram to the socket named in ``NOTIFY_SOCKET``;
outside systemd the variable is unset and every call does nothing.
"""

import os
import socket


def notify(state: str) -> bool:
    """Send ``state`` (``READY=1``, ``WATCHDOG=1``, ...); False outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError:
        return False
    return True
