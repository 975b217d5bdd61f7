import socket
from pathlib import Path

import pytest

from hub_server.demo import free_port
from hublink.broker import BrokerConfig, EmbeddedBroker
from hublink.errors import BrokerError


def test_binds_to_loopback_unless_told_otherwise():
    assert BrokerConfig().host == "127.0.0.1"
    port = free_port()
    with EmbeddedBroker(BrokerConfig(port=port)) as broker:
        assert broker.address == f"127.0.0.1:{port}"
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        assert _listeners(port) == [("127.0.0.1", port)]


def _listeners(port: int) -> list[tuple[str, int]]:
    """Listening TCP sockets on ``port``, read from the kernel's table."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, local_port = local.split(":")
        if state == "0A" and int(local_port, 16) == port:
            found.append((socket.inet_ntoa(bytes.fromhex(address)[::-1]), port))
    return found


def test_a_taken_port_is_a_clear_error(embedded_broker):
    with pytest.raises(BrokerError, match=f"cannot listen on 127.0.0.1:{embedded_broker.port}"):
        EmbeddedBroker(BrokerConfig(port=embedded_broker.port)).start()


def test_stop_is_safe_twice_and_frees_the_port():
    port = free_port()
    broker = EmbeddedBroker(BrokerConfig(port=port)).start()
    broker.stop()
    broker.stop()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
