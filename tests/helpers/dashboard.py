"""Dashboard test clients: a site over a store, signed in as an operator or a host."""

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from hub_server import users
from hub_server.config import HubConfig
from hub_server.site import Site, create_site
from hub_server.store import Store
from tests.helpers.door_hardware import SITE_KEY

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def config(**sections: object) -> HubConfig:
    """A hub configuration for tests (site ``testsite``)."""
    return HubConfig.model_validate({"site": {"id": "testsite"}, **sections})


def site_for(store: Store, cfg: HubConfig | None = None, **extras: object) -> Site:
    """The API and dashboard over ``store``."""
    return create_site(store, cfg or config(), site_key=SITE_KEY, extras=extras)


def csrf_in(html: str) -> str:
    """The first CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """A TestClient that keeps cookies, with the session's CSRF token at hand."""

    client: TestClient
    csrf: str = ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET with the session cookie."""
        answer: httpx.Response = self.client.get(path, **kwargs)
        return answer

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """POST a form with the session's CSRF token (unless ``data`` has its own)."""
        answer: httpx.Response = self.client.post(
            path, data={"csrf": self.csrf, **(data or {})}, **kwargs
        )
        return answer


def log_in(site: Site, username: str, password: str = PASSWORD) -> Browser:
    """A browser signed in as ``username`` (the account must exist)."""
    client = TestClient(site, follow_redirects=False)
    form = client.get("/login")
    answer = client.post(
        "/login", data={"username": username, "password": password, "csrf": csrf_in(form.text)}
    )
    assert answer.status_code == 303, answer.text
    home = client.get("/")
    assert home.status_code == 200
    return Browser(client, csrf_in(home.text))


def signed_in(store: Store, site: Site, role: str = "operator", username: str = "") -> Browser:
    """Create an account of ``role`` and sign in with it."""
    name = username or role
    users.add(store, name, PASSWORD, role, "test")
    return log_in(site, name)
