"""Username/password and TLS options of the link, against a real Mosquitto."""

import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hub_server.demo import free_port
from hublink.broker import BrokerConfig, EmbeddedBroker
from hublink.link import Link
from hublink.messages import DoorState
from hublink.topics import ANY, Topics
from tests.conftest import mqtt_config
from tests.helpers.brokers import Mosquitto
from tests.helpers.collect import Collector


def connect_and_watch(link: Link, seconds: float) -> bool:
    with link:
        return link.wait_connected(seconds)


@pytest.fixture
def password_broker(tmp_path: Path):
    passwords = tmp_path / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "door-front", "pw-right-9f3k"], check=True
    )
    passwords.chmod(0o600)
    broker = Mosquitto(tmp_path, extra=("allow_anonymous false", f"password_file {passwords}"))
    broker.start()
    yield broker
    broker.stop()


def test_username_and_password_are_used(password_broker, topics):
    config = mqtt_config(password_broker.port, username="door-front", password="pw-right-9f3k")
    assert connect_and_watch(Link(config, topics, client_id="good"), 10)


@pytest.mark.parametrize(
    "credentials",
    [{"username": "door-front", "password": "pw-wrong-7q2z"}, {}],
    ids=["wrong", "anonymous"],
)
def test_refused_credentials_are_counted_and_logged_without_the_password(
    password_broker, topics, credentials, caplog
):
    link = Link(mqtt_config(password_broker.port, **credentials), topics, client_id="bad")
    with caplog.at_level(logging.DEBUG):  # every logger, every level
        assert not connect_and_watch(link, 1.5)
    assert link.stats.connect_failures >= 1
    assert link.stats.connects == 0
    assert "refused the connection" in caplog.text
    assert "pw-" not in caplog.text


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture
def tls_broker(tmp_path: Path):
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", f"{tmp_path}/ca.key", "-out", f"{tmp_path}/ca.pem",
            "-days", "1", "-subj", "/CN=hubtap test CA")  # fmt: skip
    openssl("req", *ec, "-keyout", f"{tmp_path}/server.key", "-out", f"{tmp_path}/server.csr",
            "-subj", "/CN=localhost")  # fmt: skip
    (tmp_path / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", f"{tmp_path}/server.csr", "-CA", f"{tmp_path}/ca.pem",
            "-CAkey", f"{tmp_path}/ca.key", "-CAcreateserial", "-out", f"{tmp_path}/server.pem",
            "-days", "1", "-extfile", f"{tmp_path}/san.cnf")  # fmt: skip
    broker = Mosquitto(
        tmp_path,
        extra=(
            "allow_anonymous true",
            f"cafile {tmp_path}/ca.pem",
            f"certfile {tmp_path}/server.pem",
            f"keyfile {tmp_path}/server.key",
        ),
    )
    broker.start()
    yield broker
    broker.stop()


def test_tls_with_the_sites_ca_carries_messages(tls_broker, tmp_path, topics: Topics):
    config = mqtt_config(tls_broker.port, tls=True, ca_file=tmp_path / "ca.pem")
    states = Collector()
    hub = Link(config, topics, client_id="hub")
    hub.subscribe(topics.door_state(ANY), states)
    with hub, Link(config, topics, client_id="door") as door:
        assert hub.wait_connected(10)
        assert door.wait_connected(10)
        door.publish(topics.door_state("front"), DoorState(lock="locked", acl_version=1))
        assert states.wait_for(1)


def test_tls_refuses_a_broker_it_cannot_verify(tls_broker, topics):
    link = Link(mqtt_config(tls_broker.port, tls=True), topics, client_id="no-ca")  # system CAs
    assert not connect_and_watch(link, 1.5)
    assert link.stats.connect_failures >= 1


def test_plain_text_to_a_tls_listener_does_not_connect(tls_broker, topics):
    link = Link(mqtt_config(tls_broker.port), topics, client_id="plain")
    assert not connect_and_watch(link, 1.5)


class AclBroker(EmbeddedBroker):
    """The embedded broker with amqtt's topic ACL: subscriptions only to door 'front'."""

    def amqtt_settings(self) -> dict[str, Any]:
        settings = super().amqtt_settings()
        # amqtt 0.12.1 warns that "acl" is deprecated for "subscribe-acl", yet its
        # plugin's config dataclass accepts only "acl".
        settings["plugins"]["amqtt.plugins.topic_checking.TopicAccessControlListPlugin"] = {
            "acl": {"anonymous": ["hubtap/testsite/door/front/#"]}
        }
        return settings


@pytest.mark.filterwarnings("ignore:The 'acl' option is deprecated:DeprecationWarning")
def test_a_subscription_the_broker_refuses_is_counted_and_logged(topics, caplog):
    # Mosquitto's acl_file never refuses a SUBSCRIBE (it filters deliveries instead);
    # amqtt's ACL plugin, EMQX and Mosquitto's dynamic-security plugin answer 0x80.
    with AclBroker(BrokerConfig(port=free_port())) as broker:
        link = Link(mqtt_config(broker.config.port), topics, client_id="door-front")
        link.subscribe(topics.door_acl_snapshot("front"), Collector())  # its own: allowed
        link.subscribe(topics.door_event(ANY), Collector())  # every door's events: refused
        with caplog.at_level(logging.ERROR, logger="hublink.link"), link:
            assert link.wait_connected(10)
            assert link.stats.subscriptions_refused == 1
    assert f"refused the subscription to {topics.door_event(ANY)}" in caplog.text
    assert topics.door_acl_snapshot("front") not in caplog.text
